"""The push-ordering rule (remedy.domain.push_order), table-driven.

Covers: identity (ref, before, after; another delivery is the same push), the chain
beating any clock, push time, arrival within a second, no wrap at any counter value
(the old ``% 1000`` boundaries, the slot boundary, the last sequence number), the same
verdicts whether push-intake (push log) or agent-cancel (state heads) asks, newer heads
and containment through the chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remedy.domain import push_order
from remedy.domain.push_order import (
    EPOCH_SLOT,
    MAX_SEQUENCE,
    Candidate,
    Collision,
    Duplicate,
    EpochsExhausted,
    Newest,
    Older,
    Push,
    PushLog,
    Replaced,
    admit,
    epoch_for,
    judge,
)

T0 = datetime(2026, 12, 3, 9, 0, 0, tzinfo=UTC)
REF = "refs/heads/task-12"
A, B, C, D, X = ("a" * 40, "b" * 40, "c" * 40, "d" * 40, "e" * 40)


def candidate(
    before: str, after: str, *, at: datetime = T0, delivery: str = "d", ref: str = REF
) -> Candidate:
    return Candidate(
        ref=ref, before=before, after=after, delivery=delivery, pushed_at=at, pusher="rex"
    )


def take(log: PushLog, *pushes: Candidate) -> tuple[PushLog, list[push_order.Admission]]:
    """Admit ``pushes`` in arrival order, as push-intake would."""
    admissions = []
    for push in pushes:
        admission = admit(log, push)
        admissions.append(admission)
        log = admission.log or log
    return log, admissions


@pytest.mark.parametrize(
    "start",
    [0, 997, 998, 999, 1000, 1998, 9_999, 99_998, 999_997],
    ids=lambda s: f"sequence-{s}",
)
@pytest.mark.parametrize(
    "second_at",
    [T0, T0 - timedelta(seconds=30), T0 + timedelta(seconds=1)],
    ids=["same-second", "clock-says-earlier", "next-second"],
)
def test_a_push_onto_the_current_head_always_supersedes_it(start: int, second_at: datetime) -> None:
    """A→B then B→C: C is newer whatever the clock and wherever the counter stands."""
    log, (first, second) = take(
        PushLog(sequence=start),
        candidate(A, B, delivery="d-1"),
        candidate(B, C, at=second_at, delivery="d-2"),
    )
    assert first.record is not None and second.record is not None
    assert isinstance(second.verdict, Newest)
    assert second.record.epoch > first.record.epoch
    assert log.sequence == start + 2
    # and had they arrived the other way round, the replaced one changes nothing
    _, (late_second, late_first) = take(
        PushLog(sequence=start),
        candidate(B, C, at=second_at, delivery="d-2"),
        candidate(A, B, delivery="d-1"),
    )
    assert late_second.record is not None
    assert isinstance(late_first.verdict, Replaced) and late_first.record is None


@pytest.mark.parametrize(
    ("sequence", "at", "expected"),
    [
        (1, T0, int(T0.timestamp()) * EPOCH_SLOT + 1),
        (999, T0, int(T0.timestamp()) * EPOCH_SLOT + 999),
        (1000, T0, int(T0.timestamp()) * EPOCH_SLOT + 1000),
        (1001, T0, int(T0.timestamp()) * EPOCH_SLOT + 1001),
        (MAX_SEQUENCE, T0, int(T0.timestamp()) * EPOCH_SLOT + MAX_SEQUENCE),
        (5, T0 + timedelta(seconds=1), (int(T0.timestamp()) + 1) * EPOCH_SLOT + 5),
    ],
)
def test_epochs_never_wrap(sequence: int, at: datetime, expected: int) -> None:
    assert epoch_for(pushed_at=at, sequence=sequence, parent=None) == expected


def test_epochs_stay_exact_in_json_numbers() -> None:
    far = datetime(2200, 1, 1, tzinfo=UTC)
    assert epoch_for(pushed_at=far, sequence=MAX_SEQUENCE, parent=None) < 2**53


@pytest.mark.parametrize("sequence", [0, MAX_SEQUENCE + 1, -1])
def test_a_sequence_outside_the_slot_is_refused_not_wrapped(sequence: int) -> None:
    with pytest.raises(EpochsExhausted, match="start a new task"):
        epoch_for(pushed_at=T0, sequence=sequence, parent=None)


def test_the_last_sequence_number_is_issued_and_the_next_refused() -> None:
    log, (last,) = take(PushLog(sequence=MAX_SEQUENCE - 1), candidate(A, B))
    assert last.record is not None and last.record.epoch % EPOCH_SLOT == MAX_SEQUENCE
    with pytest.raises(EpochsExhausted):
        admit(log, candidate(B, C))


def test_the_parent_lifts_the_slot_when_the_clock_lags() -> None:
    parent = Push(ref=REF, before=A, after=B, epoch=(int(T0.timestamp()) + 60) * EPOCH_SLOT + 7)
    epoch = epoch_for(pushed_at=T0, sequence=8, parent=parent)
    assert epoch == parent.epoch + 1


# -- judge: one table for push-intake's log and agent-cancel's state ---------------

E1 = int(T0.timestamp()) * EPOCH_SLOT + 1
E2 = E1 + 1
E3 = (int(T0.timestamp()) + 5) * EPOCH_SLOT + 3
KNOWN = [
    Push(ref=REF, before=A, after=B, epoch=E1, delivery="d-1"),
    Push(ref=REF, before=B, after=C, epoch=E2, delivery="d-2"),
]


@pytest.mark.parametrize(
    ("push", "floor", "verdict"),
    [
        pytest.param(Push(REF, B, C, E3), 0, Duplicate, id="same-push-new-epoch"),
        pytest.param(Push("", B, C, E3), 0, Duplicate, id="ref-unrecorded"),
        pytest.param(Push("refs/heads/task-12-x", B, C, E3), 0, Newest, id="other-ref"),
        pytest.param(Push(REF, B, C, E2, "d-2"), 0, Newest, id="itself-retried"),
        pytest.param(Push(REF, B, C, E2), 0, Newest, id="itself-delivery-unknown"),
        pytest.param(Push(REF, B, C, E2, "d-9"), 0, Duplicate, id="same-epoch-after-log-loss"),
        pytest.param(Push(REF, C, D, E2, "d-9"), 0, Collision, id="epoch-issued-twice"),
        pytest.param(Push(REF, X, B, E3), 0, Replaced, id="head-replaced-by-known"),
        pytest.param(Push(REF, C, D, E3), 0, Newest, id="onto-current-head"),
        pytest.param(Push(REF, X, D, E1 - 5), 0, Older, id="older-by-time"),
        pytest.param(Push(REF, X, D, E3), E3 + 1, Older, id="below-the-task-epoch"),
        pytest.param(Push(REF, X, D, E3), 0, Newest, id="unlinked-later"),
    ],
)
def test_judge(push: Push, floor: int, verdict: type) -> None:
    assert isinstance(judge(push, KNOWN, floor=floor), verdict)


def test_the_log_and_the_state_reach_the_same_verdicts() -> None:
    """push-intake judges with the candidate's fresh epoch, agent-cancel with the one the
    event carries; for every arrival order of three pushes they agree on which is admitted."""
    pushes = [
        candidate(A, B, delivery="d-1"),
        candidate(B, C, delivery="d-2"),
        candidate(X, D, at=T0 - timedelta(seconds=10), delivery="d-3"),
    ]
    orders = [(0, 1, 2), (1, 0, 2), (2, 1, 0), (1, 2, 0), (2, 0, 1), (0, 2, 1)]
    for order in orders:
        log, admissions = take(PushLog(), *(pushes[i] for i in order))
        admitted = [a.record for a in admissions if a.record is not None]
        state: list[Push] = []
        for record in admitted:
            if isinstance(judge(record.push, state), Newest):
                state.append(record.push)
        assert [p.after for p in state] == [r.after for r in admitted], order
        assert push_order.newest(state) == push_order.newest(p.push for p in log.pushes)
        assert push_order.newest(state) is not None
        assert push_order.newest(state).after == C, order  # type: ignore[union-attr]


def test_a_duplicate_replays_the_first_delivery_whenever_it_comes() -> None:
    log, (first, _, again) = take(
        PushLog(),
        candidate(A, B, delivery="gateway-1"),
        candidate(B, C, delivery="gateway-2"),
        candidate(A, B, delivery="org-hook-1", at=T0 + timedelta(days=2)),
    )
    assert isinstance(again.verdict, Duplicate)
    assert again.record == first.record
    assert again.log is None, "a duplicate changes nothing"
    assert log.sequence == 2


def test_the_log_keeps_only_the_newest_pushes() -> None:
    log = PushLog()
    sha = [f"{i:040x}" for i in range(push_order.MAX_PUSHES + 10)]
    for i in range(len(sha) - 1):
        log, _ = take(log, candidate(sha[i], sha[i + 1], delivery=f"d-{i}"))
    assert len(log.pushes) == push_order.MAX_PUSHES
    assert log.pushes[-1].after == sha[-1]
    assert PushLog.from_json(log.to_json()) == log


def test_newer_heads_and_containment_follow_the_chain() -> None:
    known = [*KNOWN, Push(REF, C, D, E3)]
    assert push_order.newer_heads(KNOWN[0], known) == {C, D}
    assert push_order.newer_heads(known[-1], known) == frozenset()
    assert push_order.contained_in(B, D, known)
    assert push_order.contained_in(D, D, known)
    assert not push_order.contained_in(D, B, known)
    assert not push_order.contained_in(X, D, known)
