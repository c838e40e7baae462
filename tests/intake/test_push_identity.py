"""push-intake: one push, one epoch, one reply — whatever delivers it, in whatever order.

Covers, on real Redis masters and push-intake as functions-framework serves it: the
same push under other delivery ids (another hook, GitHubSource's re-serialised form,
days later, concurrently) gets the first delivery's reply replayed (same event id, same
epoch, the log unchanged); a crash after the push log took the push in but before the
delivery's ledger recorded it resumes with the same epoch; a crashed attempt that did
record it reuses the record; the push GitHub made later is newer whatever order they
arrive in, an older one is acknowledged with its reason; linked pushes in one second
keep their order across the old ``% 1000`` wrap; an exhausted counter is refused (400).
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from remedy import config
from remedy.adapters.redis.ledger import Ledger
from remedy.adapters.redis.ledger_keys import LedgerKey
from remedy.adapters.redis.push_log import RedisPushLogs
from remedy.adapters.redis.redlock import Redlock
from remedy.domain import push_order
from remedy.domain.push_order import EPOCH_SLOT, MAX_SEQUENCE, Candidate, PushLog
from remedy.domain.pushes import PushPolicy, RemediationPush, classify
from remedy.events.github import push_facts
from remedy.handlers.chain.push_intake import fingerprint, log_name
from remedy.handlers.common.once import scoped_source
from tests.intake.conftest import function_app
from tests.intake.test_push_intake import (
    REX_SHA_AFTER,
    REX_SHA_BEFORE,
    github_source_form,
    post_binary,
    push_event,
    reply_of,
    rex_push,
)
from tests.support.waiting import eventually

LOG = "task:Codertocat/Hello-World#12"


@pytest.fixture
def client(redis_urls: list[str], monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("REDIS_URLS", ",".join(redis_urls))
    return function_app("push-intake").test_client()


@pytest.fixture
def logs(redis_urls: list[str]) -> RedisPushLogs:
    return RedisPushLogs(Redlock.from_urls(redis_urls))


def remediation_push(payload: dict[str, Any]) -> RemediationPush:
    decision = classify(
        push_facts(push_event(payload)),
        PushPolicy(
            implementation_agents=config.implementation_agents({}),
            branches=config.task_branch_pattern({}),
        ),
    )
    assert isinstance(decision, RemediationPush)
    return decision


def test_the_log_is_named_after_the_task(reference_dir: Path) -> None:
    assert log_name(remediation_push(rex_push(reference_dir))).lower() == LOG.lower()


def test_another_delivery_of_the_same_push_replays_the_first_reply(
    client: Any, logs: RedisPushLogs, reference_dir: Path
) -> None:
    payload = rex_push(reference_dir)
    name = log_name(remediation_push(payload))
    first = reply_of(post_binary(client, push_event(payload, delivery="repo-hook-1")))
    log_after_first = logs.read(name)
    org_hook = reply_of(post_binary(client, push_event(payload, delivery="org-hook-1")))
    reserialised = github_source_form(payload)
    reserialised["repository"]["pushed_at"] = "2019-05-15T15:20:57Z"
    source = reply_of(post_binary(client, push_event(reserialised, delivery="ghsource-1")))
    for again in (org_hook, source):
        assert again["id"] == first["id"] == "repo-hook-1:remediation.requested"
        assert again.get_data() == first.get_data()
    assert first.get_data()["delivery_id"] == "repo-hook-1"
    assert logs.read(name) == log_after_first, "a duplicate changes nothing"


def test_a_late_delivery_of_a_replaced_push_still_replays_its_reply(
    client: Any, reference_dir: Path
) -> None:
    first = reply_of(post_binary(client, push_event(rex_push(reference_dir), delivery="h-1")))
    follow_up = rex_push(reference_dir, before=REX_SHA_AFTER, after="7" * 40)
    reply_of(post_binary(client, push_event(follow_up, delivery="h-2")))
    late = reply_of(post_binary(client, push_event(rex_push(reference_dir), delivery="h-3")))
    assert (late["id"], late.get_data()) == (first["id"], first.get_data())


def test_concurrent_deliveries_under_different_ids_get_one_epoch(
    redis_urls: list[str], monkeypatch: pytest.MonkeyPatch, reference_dir: Path
) -> None:
    monkeypatch.setenv("REDIS_URLS", ",".join(redis_urls))
    app = function_app("push-intake")
    payload = rex_push(reference_dir)
    callers = 8
    start = threading.Barrier(callers)
    answers: dict[str, tuple[int, bytes]] = {}
    guard = threading.Lock()

    def deliver(delivery: str) -> None:
        client = app.test_client()
        start.wait()
        for _ in range(200):  # a 409 is "retry later", as the broker would
            response = post_binary(client, push_event(payload, delivery=delivery))
            if response.status_code != 409:
                break
        with guard:
            answers[delivery] = (response.status_code, response.get_data())

    threads = [threading.Thread(target=deliver, args=(f"hook-{i}",)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers.values()} == {200}
    assert len({body for _, body in answers.values()}) == 1, "one reply for one push"


def test_a_crash_between_the_push_log_and_the_ledger_keeps_one_epoch(
    client: Any, logs: RedisPushLogs, redis_urls: list[str], reference_dir: Path
) -> None:
    """The worker took the push into the log and died before its ledger step."""
    payload = rex_push(reference_dir)
    event = push_event(payload, delivery="crashed-1")
    push = remediation_push(payload)
    ledger = Ledger.from_urls(redis_urls)
    key = LedgerKey.for_event(scoped_source("push-intake", event["source"]), event["id"])
    crashed = ledger.begin(key, fingerprint=fingerprint(push), lease_s=0.05)
    assert push.pushed_at is not None
    pushed_at = push.pushed_at
    taken = logs.update(
        log_name(push),
        lambda log: _stored(
            push_order.admit(
                log,
                Candidate(
                    ref="refs/heads/" + push.branch,
                    before=push.before,
                    after=push.after,
                    delivery="crashed-1",
                    pushed_at=pushed_at,
                    pusher=push.pusher,
                ),
            )
        ),
    )
    assert taken.record is not None
    _lapse(ledger, key)
    assert crashed.key == key
    retried = reply_of(post_binary(client, event))
    assert retried.get_data()["epoch"] == taken.record.epoch
    other = reply_of(post_binary(client, push_event(payload, delivery="another-hook")))
    assert other.get_data() == retried.get_data()
    assert logs.read(log_name(push)).sequence == 1


def test_a_crashed_attempt_that_recorded_the_push_reuses_it(
    client: Any, redis_urls: list[str], reference_dir: Path
) -> None:
    payload = rex_push(reference_dir)
    event = push_event(payload)
    push = remediation_push(payload)
    ledger = Ledger.from_urls(redis_urls)
    key = LedgerKey.for_event(scoped_source("push-intake", event["source"]), event["id"])
    crashed = ledger.begin(key, fingerprint=fingerprint(push), lease_s=0.05)
    record = push_order.PushRecord(
        ref="refs/heads/" + push.branch,
        before=push.before,
        after=push.after,
        epoch=4242,
        delivery=str(event["id"]),
        pushed_at="2026-11-21T09:00:00+00:00",
        pusher=push.pusher,
    )
    ledger.record_step(crashed, "push", asdict(record))
    _lapse(ledger, key)
    reply = reply_of(post_binary(client, event))
    assert reply.get_data()["epoch"] == 4242
    assert reply.get_data()["pushed_at"] == "2026-11-21T09:00:00Z"
    finished = ledger.get(key)
    assert finished is not None and finished.attempts == 2


def test_the_push_made_later_is_newer_whatever_the_arrival_order(
    client: Any, reference_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    later = rex_push(reference_dir, after="3" * 40, repository__pushed_at=1_700_000_100)
    earlier = rex_push(reference_dir, after="2" * 40, repository__pushed_at=1_700_000_050)
    first = reply_of(post_binary(client, push_event(later, delivery="late-1")))
    older = post_binary(client, push_event(earlier, delivery="late-2"))
    assert (older.status_code, older.get_data()) == (202, b"")
    assert "older than the task's newest push" in caplog.text
    same_second = rex_push(reference_dir, after="4" * 40, repository__pushed_at=1_700_000_100)
    third = reply_of(post_binary(client, push_event(same_second, delivery="late-3")))
    assert third.get_data()["epoch"] > first.get_data()["epoch"], "arrival within a second"
    assert third.get_data()["epoch"] // EPOCH_SLOT == first.get_data()["epoch"] // EPOCH_SLOT


@pytest.mark.parametrize("sequence", [997, 998, 999, 1998, 999_997])
def test_linked_pushes_in_one_second_keep_their_order_across_any_counter(
    client: Any, logs: RedisPushLogs, reference_dir: Path, sequence: int
) -> None:
    _set_sequence(logs, sequence)
    at = {"repository__pushed_at": 1_700_000_200}
    first = reply_of(post_binary(client, push_event(rex_push(reference_dir, **at), delivery="a")))
    linked = rex_push(reference_dir, before=REX_SHA_AFTER, after="5" * 40, **at)
    second = reply_of(post_binary(client, push_event(linked, delivery="b")))
    assert second.get_data()["epoch"] > first.get_data()["epoch"]
    assert second.get_data()["before_sha"] == first.get_data()["after_sha"]


def test_an_exhausted_counter_is_refused_with_a_reason(
    client: Any, logs: RedisPushLogs, reference_dir: Path
) -> None:
    _set_sequence(logs, MAX_SEQUENCE)
    response = post_binary(client, push_event(rex_push(reference_dir)))
    assert response.status_code == 400
    assert "start a new task" in response.get_data(as_text=True)
    assert logs.read(LOG).sequence == MAX_SEQUENCE


def test_the_replayed_reply_names_the_pushed_shas(client: Any, reference_dir: Path) -> None:
    data = reply_of(post_binary(client, push_event(rex_push(reference_dir)))).get_data()
    assert (data["before_sha"], data["after_sha"]) == (REX_SHA_BEFORE, REX_SHA_AFTER)


def _stored(
    admission: push_order.Admission,
) -> tuple[push_order.Admission, PushLog | None]:
    return admission, admission.log


def _set_sequence(logs: RedisPushLogs, sequence: int) -> None:
    logs.update(LOG, lambda log: (None, PushLog(sequence=sequence)))


def _lapse(ledger: Ledger, key: LedgerKey) -> None:
    # waiting for the lease to lapse is the behaviour under test
    eventually(
        lambda: not ((entry := ledger.get(key)) and (entry.lease_remaining_s or 0) > 0),
        timeout=5,
        every=0.01,
        what="the crashed claim's lease to run out",
        describe=lambda: f"ledger entry: {ledger.get(key)}",
    )
