"""What the adapters record, and feedback-intake's counts, against the real thing: the
GitHub emulator over HTTP, real redis-server masters, feedback-intake as served.

Covers:
- GitHub: every attempt by method, endpoint template and status (``2xx``, GitHub's
  error status, ``error`` without an answer), the rate limit GitHub says is left, and
  the circuit breaker's state as it opens, lets one probe through and closes;
- Redlock: an acquisition ``acquired`` or ``busy`` by kind of lock, each with its wait;
- the idempotency ledger: a redelivery ``replayed``, a concurrent one ``in_progress``;
- feedback-intake: a counted Rex run per feedback within the maximum (``iteration``),
  and an exhaustion past it; a redelivered feedback counts nothing more.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from remedy.adapters.github.breaker import CircuitBreaker
from remedy.adapters.github.errors import CircuitOpen, GitHubUnavailable
from remedy.adapters.github.prs import PullRequestsClient
from remedy.adapters.redis.idempotency import InProgress, LedgerIdempotency
from remedy.adapters.redis.ledger import Ledger
from remedy.adapters.redis.redlock import LockUnavailable, Redlock
from remedy.domain.identifiers import task_lock_resource
from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.server import GitHubEmulator
from tests.adapters.github.conftest import (
    REPO,
    FakeClock,
    OpenPull,
    breaker,
    client,
    clock,
    emulator,
    make_client,
    open_pull,
    repo,
)
from tests.chain import seed
from tests.feedback import support as feedback
from tests.intake.conftest import function_app
from tests.metrics.samples import key, moved, of, registry
from tests.metrics.test_outcomes import rate_limit_left
from tests.support.events import post, reply

__all__ = ["breaker", "client", "clock", "emulator", "make_client", "open_pull", "repo"]
LABELS = "/repos/{owner}/{repo}/issues/{number}/labels"


def breaker_state() -> dict[str, float]:
    shown = of(registry(), "remedy_github_circuit_breaker_state")
    return {dict(labels)["state"]: value for labels, value in shown.items()}


def test_github_attempts_by_endpoint_and_status_and_the_rate_limit_left(
    client: PullRequestsClient, emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    number = open_pull("task-7", labels=["ready-for-qa"])
    emulator.backend.faults.add(Fault(status=502, method="POST", count=1))
    before = registry()
    client.add_labels(REPO, number, ["remediation-in-progress"])  # a 502, then done
    assert client.remove_label(REPO, number, "absent") is False  # GitHub's 404
    assert client.find_open(REPO, branch="task-7", task_id=7) == number
    changed = moved(before, registry())
    assert of(changed, "remedy_github_requests_total") == {
        (("endpoint", LABELS), ("method", "POST"), ("status", "502")): 1,
        (("endpoint", LABELS), ("method", "POST"), ("status", "2xx")): 1,
        (("endpoint", LABELS + "/{name}"), ("method", "DELETE"), ("status", "404")): 1,
        (("endpoint", "/repos/{owner}/{repo}/pulls"), ("method", "GET"), ("status", "2xx")): 1,
    }
    left = rate_limit_left(emulator.url, emulator.token)
    assert registry()[key("remedy_github_ratelimit_remaining", resource="core")] == left


def test_github_without_an_answer_is_an_error(make_client: Any) -> None:
    unreachable = make_client(url="http://127.0.0.1:9", attempts=1)
    before = registry()
    with pytest.raises(GitHubUnavailable):
        unreachable.find_open(REPO, branch="task-7", task_id=7)
    assert of(moved(before, registry()), "remedy_github_requests_total") == {
        (("endpoint", "/repos/{owner}/{repo}/pulls"), ("method", "GET"), ("status", "error")): 1,
    }


def test_the_breaker_state_follows_it_open_half_open_closed(
    client: PullRequestsClient,
    emulator: GitHubEmulator,
    open_pull: OpenPull,
    clock: FakeClock,
    breaker: CircuitBreaker,
) -> None:
    number = open_pull("task-7")
    assert breaker_state() == {"closed": 1, "open": 0, "half-open": 0}
    emulator.backend.faults.add(Fault(status=500, count=None))
    with pytest.raises(GitHubUnavailable):
        client.add_labels(REPO, number, ["x"])
    assert breaker_state() == {"closed": 0, "open": 1, "half-open": 0}
    with pytest.raises(CircuitOpen):
        client.add_labels(REPO, number, ["x"])
    clock.advance(30)
    with pytest.raises(CircuitOpen):  # the probe fails: open again
        client.add_labels(REPO, number, ["x"])
    assert breaker_state() == {"closed": 0, "open": 1, "half-open": 0}
    clock.advance(30)
    breaker.admit()  # the next probe goes out
    assert breaker_state() == {"closed": 0, "open": 0, "half-open": 1}
    emulator.backend.faults.clear()
    breaker.succeeded()
    assert breaker_state() == {"closed": 1, "open": 0, "half-open": 0}


def test_lock_acquisitions_taken_and_busy(redis_urls: list[str]) -> None:
    locks = Redlock.from_urls(redis_urls, acquire_timeout_s=0.05)
    resource = task_lock_resource(4242)
    before = registry()
    with locks.hold(resource), pytest.raises(LockUnavailable):
        locks.acquire(resource)
    changed = moved(before, registry())
    assert of(changed, "remedy_lock_acquisitions_total") == {
        (("lock", "task"), ("result", "acquired")): 1,
        (("lock", "task"), ("result", "busy")): 1,
    }
    assert changed[key("remedy_lock_wait_seconds_count", lock="task")] == 2
    busy_wait = registry()[key("remedy_lock_wait_seconds_sum", lock="task")]
    assert busy_wait >= 0.05  # the busy one waited out its timeout


def test_ledger_duplicates_replayed_and_in_progress(redis_urls: list[str]) -> None:
    idempotency = LedgerIdempotency(Ledger.from_urls(redis_urls), lease_s=30)
    inside, release = threading.Event(), threading.Event()

    def slow(_steps: Any) -> dict[str, Any]:
        inside.set()
        release.wait(10)
        return {"ack": "done"}

    once = {"source": "test@source", "event_id": "e-1", "fingerprint": "f"}
    before = registry()
    worker = threading.Thread(target=lambda: idempotency.once(**once, work=slow))
    worker.start()
    assert inside.wait(10)
    with pytest.raises(InProgress):
        idempotency.once(**once, work=slow)
    release.set()
    worker.join(10)
    assert idempotency.once(**once, work=slow) == {"ack": "done"}
    assert of(moved(before, registry()), "remedy_ledger_duplicates_total") == {
        (("outcome", "in_progress"),): 1,
        (("outcome", "replayed"),): 1,
    }


def test_feedback_iterations_and_exhaustion(
    platform_env: dict[str, str], github: GitHubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMEDY_MAX_ITERATIONS", "2")
    app = function_app("feedback-intake").test_client()
    pr = seed.pull_request(github, branch=feedback.BRANCH, labels=["task-12", "ready-for-qa"])
    before = registry()
    first = feedback.comment(comment_id=1001, number=pr.number)
    reply(app, first)
    assert post(app, first).status_code == 200  # redelivered: replayed, not counted
    reply(app, feedback.comment(comment_id=1002, number=pr.number))
    refused = reply(app, feedback.comment(comment_id=1003, number=pr.number))
    assert refused["type"] == "dev.remedy.remediation.exhausted"
    changed = moved(before, registry())
    assert changed[key("remedy_feedback_iterations_total")] == 2
    assert changed[key("remedy_feedback_exhaustions_total")] == 1
