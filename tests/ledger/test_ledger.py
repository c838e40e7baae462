"""The idempotency ledger on a real redis-server.

Covers: first delivery is NEW; after completion a duplicate is DONE and replays the
recorded result without a new attempt; 30 concurrent duplicates yield exactly one NEW
and otherwise only "in progress, retry later" or DONE; the same key with another
payload is rejected and changes nothing; a holder that crashed (lease ran out,
nothing completed) is taken over as RESUME with its recovery point and step outputs,
and the crashed holder's late writes are refused; a failed attempt resumes with its
error and attempt count; only the owner may record, renew, complete or fail; a DONE
claim cannot write; records carry the configured TTL, refreshed on each change; event
keys and step keys are separate; ``renew`` keeps a claim from being taken over;
outputs must be bounded JSON objects; unreachable masters raise LedgerUnavailable after
one try each, a hung one given up at the configured timeout; bad fingerprints and
leases are refused.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis

from remedy.adapters.redis.ledger import (
    MAX_JSON_BYTES,
    ClaimLost,
    InProgressElsewhere,
    Ledger,
    LedgerUnavailable,
    PayloadMismatch,
)
from remedy.adapters.redis.ledger_keys import LedgerKey, fingerprint
from remedy.adapters.redis.ledger_models import Claim, ClaimOutcome, EntryStatus
from remedy.local.redis_servers import RedisServer
from tests.support.waiting import eventually

SOURCE = "https://github.com/5dlabs/cto"
KEY = LedgerKey.for_event(SOURCE, "6f1e1a10-8a4b-11ef-9a4c-2f0c8b3b1e01")
PAYLOAD = fingerprint({"after": "b" * 40, "task": 12})
OTHER_PAYLOAD = fingerprint({"after": "c" * 40, "task": 12})


def begin_when_free(ledger: Ledger, key: LedgerKey, *, deadline_s: float = 10.0) -> Claim:
    """Retry like a redelivery would, until the holder's lease has run out."""
    refusals: list[InProgressElsewhere] = []

    def begin() -> Claim | None:
        try:
            return ledger.begin(key, fingerprint=PAYLOAD)
        except InProgressElsewhere as busy:
            refusals.append(busy)
            return None

    return eventually(
        begin,
        timeout=deadline_s,
        every=0.05,
        what=f"the holder's lease on {key} to run out",
        describe=lambda: f"last refusal: {refusals[-1] if refusals else None}",
    )


def test_first_delivery_is_new_and_a_duplicate_replays_the_result(ledger: Ledger) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert claim.outcome is ClaimOutcome.NEW
    assert (claim.attempts, claim.recovery_point, dict(claim.outputs)) == (1, None, {})
    ledger.complete(claim, {"epoch": 7, "reply": {"id": "r1"}})
    duplicate = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert duplicate.outcome is ClaimOutcome.DONE
    assert duplicate.result == {"epoch": 7, "reply": {"id": "r1"}}
    assert duplicate.attempts == 1
    entry = ledger.get(KEY)
    assert entry is not None
    assert entry.status is EntryStatus.DONE
    assert entry.lease_remaining_s is None


def test_concurrent_duplicates_run_once(ledger: Ledger) -> None:
    callers = 30
    start = threading.Barrier(callers)
    outcomes: list[str] = []
    guard = threading.Lock()

    def deliver() -> None:
        start.wait()
        try:
            claim = ledger.begin(KEY, fingerprint=PAYLOAD)
            outcome = claim.outcome.value
            if claim.outcome is ClaimOutcome.NEW:
                ledger.complete(claim, {"ran": True})
        except InProgressElsewhere as busy:
            assert "in progress elsewhere" in str(busy) and "retry later" in str(busy)
            outcome = "busy"
        with guard:
            outcomes.append(outcome)

    threads = [threading.Thread(target=deliver) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(outcomes) == callers
    assert outcomes.count("new") == 1
    assert set(outcomes) <= {"new", "busy", "done"}
    entry = ledger.get(KEY)
    assert entry is not None
    assert (entry.status, entry.attempts, entry.result) == (EntryStatus.DONE, 1, {"ran": True})


def test_same_key_with_another_payload_is_rejected(ledger: Ledger) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    before = ledger.get(KEY)
    with pytest.raises(PayloadMismatch, match="reused for a different payload"):
        ledger.begin(KEY, fingerprint=OTHER_PAYLOAD)
    after = ledger.get(KEY)
    assert before is not None and after is not None
    unchanged = ("status", "fingerprint", "attempts", "updated_ms", "steps")
    assert [getattr(after, f) for f in unchanged] == [getattr(before, f) for f in unchanged]
    ledger.complete(claim, {})
    with pytest.raises(PayloadMismatch):
        ledger.begin(KEY, fingerprint=OTHER_PAYLOAD)


def test_crashed_holder_is_resumed_from_its_recovery_point(ledger: Ledger) -> None:
    # A lease no pause of this test's process can outlast, so "busy" is certain...
    crashed = ledger.begin(KEY, fingerprint=PAYLOAD, lease_s=30)
    ledger.record_step(crashed, "cancel-agents", {"deleted": ["coderun-a", "coderun-b"]})
    ledger.record_step(crashed, "labels", {"added": ["remediation-in-progress"], "empty": []})
    with pytest.raises(InProgressElsewhere) as busy:
        ledger.begin(KEY, fingerprint=PAYLOAD)
    assert 0 < busy.value.retry_after_s <= 30
    # ...then its last renewal is a short one, and the holder dies: no complete, no fail.
    # Its lease runs out.
    ledger.renew(crashed, lease_s=0.3)
    resumed = begin_when_free(ledger, KEY)
    assert resumed.outcome is ClaimOutcome.RESUME
    assert resumed.attempts == 2
    assert resumed.recovery_point == "labels"
    assert list(resumed.outputs) == ["cancel-agents", "labels"]
    assert resumed.outputs["labels"] == {"added": ["remediation-in-progress"], "empty": []}
    assert resumed.completed("cancel-agents") and not resumed.completed("resume-workflow")
    with pytest.raises(ClaimLost, match="no longer ours"):
        ledger.record_step(crashed, "resume-workflow", {"late": True})
    with pytest.raises(ClaimLost):
        ledger.complete(crashed, {"late": True})
    ledger.record_step(resumed, "resume-workflow", {"stage": "waiting-pr-created"})
    ledger.complete(resumed, {"done": True})
    entry = ledger.get(KEY)
    assert entry is not None
    assert entry.steps == ("cancel-agents", "labels", "resume-workflow")
    assert entry.result == {"done": True}


def test_failed_attempt_resumes_with_its_error(ledger: Ledger) -> None:
    first = ledger.begin(KEY, fingerprint=PAYLOAD)
    ledger.record_step(first, "cancel-agents", {"deleted": []})
    ledger.fail(first, "GitHub answered 502")
    with pytest.raises(ClaimLost):
        ledger.record_step(first, "labels", {})
    second = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert second.outcome is ClaimOutcome.RESUME
    assert (second.attempts, second.last_error) == (2, "GitHub answered 502")
    assert second.recovery_point == "cancel-agents"


def test_only_the_owner_writes(ledger: Ledger) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    forged = dataclasses.replace(claim, owner="f" * 32)
    writes: list[Callable[[], None]] = [
        lambda: ledger.record_step(forged, "labels", {}),
        lambda: ledger.renew(forged),
        lambda: ledger.complete(forged, {}),
        lambda: ledger.fail(forged, "no"),
    ]
    for write in writes:
        with pytest.raises(ClaimLost):
            write()
    entry = ledger.get(KEY)
    assert entry is not None
    assert (entry.status, entry.steps) == (EntryStatus.IN_PROGRESS, ())
    ledger.complete(claim, {"ok": 1})
    done = ledger.begin(KEY, fingerprint=PAYLOAD)
    with pytest.raises(ClaimLost, match="already done"):
        ledger.record_step(done, "labels", {})


def test_records_carry_the_configured_ttl(redis_urls: list[str], store: redis.Redis) -> None:
    ledger = Ledger.from_urls(redis_urls, record_ttl_s=600, lease_s=30)
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert 0 < store.pttl(KEY.redis_key) <= 600_000
    store.pexpire(KEY.redis_key, 1000)  # every change refreshes it
    ledger.complete(claim, {})
    assert 1000 < store.pttl(KEY.redis_key) <= 600_000
    entry = ledger.get(KEY)
    assert entry is not None and entry.ttl_s is not None and 0 < entry.ttl_s <= 600
    default = Ledger.from_urls(redis_urls)
    other = LedgerKey.for_event(SOURCE, "another")
    default.begin(other, fingerprint=PAYLOAD)
    assert 6 * 86_400_000 < store.pttl(other.redis_key) <= 7 * 86_400_000


def test_event_and_step_keys_are_separate(ledger: Ledger) -> None:
    delivery = "6f1e1a10-8a4b-11ef-9a4c-2f0c8b3b1e01"
    step_key = LedgerKey.for_step(delivery, "cancel-agents")
    assert ledger.begin(KEY, fingerprint=PAYLOAD).outcome is ClaimOutcome.NEW
    assert ledger.begin(step_key, fingerprint=PAYLOAD).outcome is ClaimOutcome.NEW
    other_step = LedgerKey.for_step(delivery, "labels")
    assert ledger.begin(other_step, fingerprint=PAYLOAD).outcome is ClaimOutcome.NEW


def test_renew_keeps_the_claim(ledger: Ledger) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD, lease_s=5)
    entry = ledger.get(KEY)
    assert entry is not None and entry.lease_remaining_s is not None
    assert entry.lease_remaining_s <= 5
    ledger.renew(claim, lease_s=30)
    with pytest.raises(InProgressElsewhere) as busy:
        ledger.begin(KEY, fingerprint=PAYLOAD)
    # more than the first lease could ever have left: the renewal extended it (from now)
    assert busy.value.retry_after_s > 5


@pytest.mark.parametrize(
    ("output", "error"),
    [
        ({"x": float("nan")}, ValueError),
        ({"x": object()}, ValueError),
        ({"x": "y" * MAX_JSON_BYTES}, ValueError),
        (["not", "a", "mapping"], TypeError),
    ],
)
def test_outputs_must_be_bounded_json_objects(ledger: Ledger, output: Any, error: type) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    with pytest.raises(error):
        ledger.record_step(claim, "labels", output)
    entry = ledger.get(KEY)
    assert entry is not None and entry.steps == ()


@pytest.mark.parametrize("step", ["", "-leading", "has space", "a,b", "x" * 65])
def test_bad_step_names_are_refused(ledger: Ledger, step: str) -> None:
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    with pytest.raises(ValueError, match="step name"):
        ledger.record_step(claim, step, {})


@pytest.mark.parametrize(
    ("fingerprint_value", "lease_s"), [("", None), ("has space", None), (PAYLOAD, 0), (PAYLOAD, -1)]
)
def test_bad_fingerprints_and_leases_are_refused(
    ledger: Ledger, store: redis.Redis, fingerprint_value: str, lease_s: float | None
) -> None:
    with pytest.raises(ValueError):
        ledger.begin(KEY, fingerprint=fingerprint_value, lease_s=lease_s)
    assert store.exists(KEY.redis_key) == 0


def test_losing_the_ledger_master_fails_over_to_the_next(
    own_redis_masters: list[RedisServer],
) -> None:
    """One master down does not stop remedy; its records are out of sight (a step may
    run again — the effects are guarded in Kubernetes, see the ledger's docstring)."""
    ledger = Ledger.from_urls([s.url for s in own_redis_masters])
    ledger.complete(ledger.begin(KEY, fingerprint=PAYLOAD), {"done": 1})
    own_redis_masters[0].stop()
    claim = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert claim.outcome is ClaimOutcome.NEW
    ledger.complete(claim, {"done": 2})
    own_redis_masters[0].start()  # it comes back empty; the ledger stays where it is
    again = ledger.begin(KEY, fingerprint=PAYLOAD)
    assert again.outcome is ClaimOutcome.DONE and again.result == {"done": 2}


def test_all_masters_unreachable_raises_after_one_try_each(
    own_redis_masters: list[RedisServer],
) -> None:
    """Each master is tried once, none retried: the error names each exactly once."""
    ledger = Ledger.from_urls([s.url for s in own_redis_masters])
    ledger.begin(KEY, fingerprint=PAYLOAD)
    for server in own_redis_masters:
        server.stop()
    with pytest.raises(LedgerUnavailable, match="retry later") as unavailable:
        ledger.begin(KEY, fingerprint=PAYLOAD)
    message = str(unavailable.value)
    for server in own_redis_masters:
        assert message.count(f"{server.url}: ConnectionError") == 1, message
    assert message.count("redis://") == len(own_redis_masters), message


def test_a_hung_master_is_given_up_at_the_ledgers_timeout(
    own_redis_masters: list[RedisServer], black_hole: str
) -> None:
    """A master that accepts and never answers fails by the configured ``timeout_s`` (its
    failure says so) instead of holding the call; how long that takes is measured by
    ``make bench`` (bench_outages), not here."""
    stopped = own_redis_masters[:2]
    ledger = Ledger.from_urls([black_hole, *(s.url for s in stopped)], timeout_s=0.05)
    for server in stopped:
        server.stop()
    with pytest.raises(LedgerUnavailable, match="retry later") as unavailable:
        ledger.begin(KEY, fingerprint=PAYLOAD)
    message = str(unavailable.value)
    hung = rf"{re.escape(black_hole)}: (TimeoutError|no answer within 50 ms)"
    assert re.search(hung, message), message
    for server in stopped:
        assert message.count(f"{server.url}: ConnectionError") == 1, message
    assert message.count("redis://") == 3, message
