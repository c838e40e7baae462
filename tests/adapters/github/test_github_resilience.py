"""The adapter when GitHub misbehaves: 5xx, dead hosts, rate limits, bad tokens, and
the circuit breaker - against the emulator, with every wait on a fake clock.

Behaviours covered:
- 5xx twice then success: retried with growing, jittered, capped backoff, and the
  write happens once; 5xx every time: ``GitHubUnavailable`` after ``attempts``
  requests; a 5xx with a long ``Retry-After`` stops at once and passes it on;
- a refused connection and a read timeout are retried the same way;
- the breaker opens after N consecutive failures, then fails fast with
  ``CircuitOpen`` and zero requests (emulator stats unchanged); after the cooldown
  one probe goes through: success closes it, failure re-opens it;
- 404s, 401s and rate limits are answers, not outages: the breaker stays closed;
- secondary limit with a short ``Retry-After`` (or 0): waited out once, then success;
  with ``Retry-After: 60``: ``RateLimited(retry_after_s=60)`` at once, no sleep, and
  no request until those 60 s have passed; without ``Retry-After``: 60 s (GitHub's
  "at least one minute"); a second refusal in the same call is not waited out;
- primary limit exhausted (403 or 429, ``x-ratelimit-remaining: 0``): ``RateLimited``
  until ``x-ratelimit-reset``;
- a bad token is ``GitHubUnauthorized`` (a ``RetryLater`` naming GITHUB_TOKEN), as is a
  403 permission refusal; a 422 is ``GitHubRejected``.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from remedy.adapters.github.breaker import CircuitBreaker
from remedy.adapters.github.errors import (
    CircuitOpen,
    GitHubRejected,
    GitHubUnauthorized,
    GitHubUnavailable,
    RateLimited,
)
from remedy.adapters.github.prs import PullRequestsClient
from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.ratelimit import SECONDARY_MESSAGE
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.ports import free_port
from remedy.ports import RetryLater

from .conftest import OWNER, REPO, FakeClock, MakeClient, OpenPull, state

POST_LABELS = "/repos/{owner}/{repo}/issues/{number}/labels"
PULLS = "/repos/{owner}/{repo}/pulls"


def add(client: PullRequestsClient, number: int) -> None:
    client.add_labels(REPO, number, ["remediation-in-progress"])


@pytest.fixture
def number(open_pull: OpenPull) -> int:
    return open_pull("task-7", labels=["ready-for-qa"])


def test_5xx_twice_then_success_is_retried_and_written_once(
    client: PullRequestsClient, emulator: GitHubEmulator, clock: FakeClock, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=502, method="POST", endpoint=POST_LABELS, count=2))
    emulator.model.clear_timeline()
    add(client, number)
    assert client.requests_made == 3
    assert emulator.timeline == [
        f"{REPO}:+repolabel:remediation-in-progress",
        f"{REPO}#{number}:+label:remediation-in-progress",
    ]
    first, second = clock.sleeps  # base 50 ms: half fixed, half jitter, doubling
    assert 0.025 <= first <= 0.05
    assert 0.05 <= second <= 0.1


def test_backoff_is_capped(
    make_client: MakeClient, emulator: GitHubEmulator, clock: FakeClock, number: int
) -> None:
    client = make_client(attempts=6, base_delay_s=0.1, max_delay_s=0.3, breaker_failures=10)
    emulator.backend.faults.add(Fault(status=500, count=5))
    add(client, number)
    assert len(clock.sleeps) == 5
    assert max(clock.sleeps) <= 0.3
    assert min(clock.sleeps[2:]) >= 0.15  # 0.1 * 2**2 > cap, so cap/2 fixed


def test_5xx_every_time_gives_up_after_the_attempts(
    client: PullRequestsClient, emulator: GitHubEmulator, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=503, method="POST", count=None))
    with pytest.raises(GitHubUnavailable, match="failed 3 time") as raised:
        add(client, number)
    assert isinstance(raised.value, RetryLater)
    assert raised.value.status == 503
    assert client.requests_made == 3
    assert emulator.stats == {f"POST {POST_LABELS}": 3}


def test_5xx_with_a_long_retry_after_stops_at_once(
    client: PullRequestsClient, emulator: GitHubEmulator, clock: FakeClock, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=503, count=None, retry_after=120))
    with pytest.raises(GitHubUnavailable) as raised:
        add(client, number)
    assert raised.value.retry_after_s == 120
    assert client.requests_made == 1
    assert clock.sleeps == []


def test_refused_connection_is_retried_then_unavailable(
    make_client: MakeClient, breaker: CircuitBreaker
) -> None:
    client = make_client(url=f"http://127.0.0.1:{free_port()}", attempts=2)
    with pytest.raises(GitHubUnavailable, match="ConnectionError"):
        add(client, 1)
    assert client.requests_made == 2
    assert state(breaker) == "closed"  # 2 of 3 failures so far
    with pytest.raises(CircuitOpen):
        add(client, 1)
    assert state(breaker) == "open"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def test_read_timeout_is_a_failure(make_client: MakeClient, silent_port: int) -> None:
    client = make_client(url=f"http://127.0.0.1:{silent_port}", timeout_s=1, attempts=1)
    with pytest.raises(GitHubUnavailable, match="timed out"):
        add(client, 1)


def test_breaker_opens_fails_fast_then_probes_and_closes(
    client: PullRequestsClient,
    emulator: GitHubEmulator,
    clock: FakeClock,
    breaker: CircuitBreaker,
    number: int,
) -> None:
    emulator.backend.faults.add(Fault(status=500, count=None))
    with pytest.raises(GitHubUnavailable):
        add(client, number)
    assert state(breaker) == "open"
    stats, made = emulator.stats, client.requests_made
    for _ in range(3):
        with pytest.raises(CircuitOpen) as raised:
            client.find_open(REPO, branch="task-7", task_id=7)
        assert isinstance(raised.value, RetryLater)
        assert 0 < (raised.value.retry_after_s or 0) <= 30
    assert (emulator.stats, client.requests_made) == (stats, made)

    clock.advance(30)
    assert state(breaker) == "half-open"
    emulator.backend.faults.clear()
    assert client.find_open(REPO, branch="task-7", task_id=7) == number
    assert state(breaker) == "closed"


def test_a_failed_probe_opens_the_breaker_again(
    client: PullRequestsClient,
    emulator: GitHubEmulator,
    clock: FakeClock,
    breaker: CircuitBreaker,
    number: int,
) -> None:
    emulator.backend.faults.add(Fault(status=502, count=None))
    with pytest.raises(GitHubUnavailable):
        add(client, number)
    clock.advance(30)
    made = client.requests_made
    with pytest.raises(CircuitOpen):
        add(client, number)
    assert client.requests_made == made + 1  # the one probe
    assert state(breaker) == "open"


def test_answers_that_are_not_outages_keep_the_breaker_closed(
    make_client: MakeClient, emulator: GitHubEmulator, breaker: CircuitBreaker, number: int
) -> None:
    client = make_client()
    for _ in range(5):
        assert client.remove_label(REPO, number, "absent") is False
    with pytest.raises(GitHubUnauthorized):
        make_client(token="ghp_wrong").find_open(REPO, branch="task-7", task_id=7)
    emulator.secondary.trip(count=5, retry_after=0)
    with pytest.raises(RateLimited):
        make_client().remove_label(REPO, number, "ready-for-qa")
    with pytest.raises(RateLimited):
        make_client().remove_label(REPO, number, "ready-for-qa")
    assert state(breaker) == "closed"


@pytest.mark.parametrize("retry_after", [0, 1])
def test_short_secondary_limit_is_waited_out_once(
    client: PullRequestsClient,
    emulator: GitHubEmulator,
    clock: FakeClock,
    number: int,
    retry_after: int,
) -> None:
    emulator.secondary.trip(count=1, retry_after=retry_after)
    assert client.remove_label(REPO, number, "ready-for-qa") is True
    assert clock.sleeps == [retry_after]
    assert client.requests_made == 2


def test_second_secondary_refusal_in_a_call_is_not_waited_out(
    client: PullRequestsClient, emulator: GitHubEmulator, clock: FakeClock, number: int
) -> None:
    emulator.secondary.trip(count=2, retry_after=1)
    with pytest.raises(RateLimited) as raised:
        client.remove_label(REPO, number, "ready-for-qa")
    assert raised.value.retry_after_s == 1
    assert clock.sleeps == [1]
    assert client.requests_made == 2


def test_long_secondary_limit_is_raised_at_once_and_holds_off_later_calls(
    client: PullRequestsClient, emulator: GitHubEmulator, clock: FakeClock, number: int
) -> None:
    emulator.secondary.trip(count=1, status=429, retry_after=60)
    with pytest.raises(RateLimited) as raised:
        add(client, number)
    assert raised.value.retry_after_s == 60
    assert raised.value.status == 503
    assert clock.sleeps == []
    assert client.requests_made == 1

    clock.advance(59)
    with pytest.raises(RateLimited) as again:
        client.find_open(REPO, branch="task-7", task_id=7)
    assert again.value.retry_after_s == pytest.approx(1)
    assert client.requests_made == 1

    clock.advance(1)
    add(client, number)
    assert client.requests_made == 2


def test_secondary_limit_without_retry_after_waits_a_minute(
    client: PullRequestsClient, emulator: GitHubEmulator, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=403, message=SECONDARY_MESSAGE))
    with pytest.raises(RateLimited, match="secondary") as raised:
        add(client, number)
    assert raised.value.retry_after_s == 60


@pytest.mark.parametrize("status", [403, 429])
def test_exhausted_primary_limit_waits_for_the_reset(
    client: PullRequestsClient, emulator: GitHubEmulator, clock: FakeClock, status: int
) -> None:
    emulator.primary.configure(status=status)
    reset = emulator.primary.set_remaining(OWNER, 0).reset
    with pytest.raises(RateLimited, match="primary") as raised:
        client.find_open(REPO, branch="task-7", task_id=7)
    assert raised.value.retry_after_s == pytest.approx(reset - clock.wall, abs=1)
    assert 3500 < (raised.value.retry_after_s or 0) <= 3601
    assert clock.sleeps == []
    assert client.requests_made == 1


def test_bad_token_is_unauthorized_and_names_the_variable(
    make_client: MakeClient, repo: object
) -> None:
    with pytest.raises(GitHubUnauthorized, match="GITHUB_TOKEN") as raised:
        make_client(token="ghp_not_a_real_token").find_open(REPO, branch="task-7", task_id=7)
    assert isinstance(raised.value, RetryLater)
    assert "401" in str(raised.value)
    assert "ghp_not_a_real_token" not in str(raised.value)


def test_permission_refusal_is_unauthorized(
    client: PullRequestsClient, emulator: GitHubEmulator, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=403, message="Resource not accessible by integration"))
    with pytest.raises(GitHubUnauthorized, match="Resource not accessible"):
        add(client, number)
    assert client.requests_made == 1


def test_unprocessable_request_is_rejected(
    client: PullRequestsClient, emulator: GitHubEmulator, number: int
) -> None:
    emulator.backend.faults.add(Fault(status=422, message="Validation Failed"))
    with pytest.raises(GitHubRejected, match="422"):
        add(client, number)
    assert client.requests_made == 1
