"""The one rule that orders a task's pushes, and the epochs that encode it.

Deliveries of pushes come late, twice, out of order and under several delivery ids, so
remedy never orders pushes by when it heard of them. It orders them as the branch's
history does, and every path (push-intake, agent-cancel, control-api, the reconciler)
asks this module, so ties and races are decided the same way everywhere:

1. **Identity.** A push *is* what GitHub pushed: its ref, ``before`` and ``after``. Two
   deliveries with the same three (another delivery id, another webhook, GitHubSource's
   re-serialised form, days later) are one push: the later ones are duplicates.
2. **Chain.** A push whose ``before`` is a known push's ``after`` is newer than that
   push, whatever any clock says; a push whose ``after`` a known push replaced is stale.
3. **Time.** Otherwise (a force push, or a link never delivered) the push GitHub reports
   later (``repository.pushed_at``, whole seconds; remedy's intake time when absent) is
   newer.
4. **Arrival.** Within one second and not linked, the push push-intake took in first is
   older (best effort: only the chain knows for sure, and linked pushes use it).

The epoch encodes that order in one integer, so that every resource can fence by
"highest epoch wins": ``epoch = slot * EPOCH_SLOT + sequence``, where ``slot`` is the
push's second (raised to its parent's slot when the clock says otherwise, rule 2) and
``sequence`` is the task's push counter (1, 2, 3, …: unique, in intake order, never
wrapped; past ``EPOCH_SLOT - 1`` pushes of one task an epoch is refused, not reused).
A push is admitted only when it is the newest the task has seen; a duplicate replays
the first delivery's epoch, a stale or older one changes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime

EPOCH_SLOT = 1_000_000
"""Sequence numbers per second: epochs stay below 2**53 (exact in JSON and JavaScript)
until the year 2255."""
MAX_SEQUENCE = EPOCH_SLOT - 1
MAX_PUSHES = 64
"""Admitted pushes a task's push log remembers (the newest); older ones are long stale."""


class EpochsExhausted(ValueError):
    """The task's push counter reached :data:`MAX_SEQUENCE`: no epoch can be issued."""


@dataclass(frozen=True)
class Push:
    """A push as the ordering rule sees it; ``ref`` is "" where it was not recorded."""

    ref: str
    before: str
    after: str
    epoch: int
    delivery: str = ""
    """The delivery it was admitted from (not part of its identity)."""

    def same_push(self, other: Push) -> bool:
        """Rule 1: the same ref (where both know it), ``before`` and ``after``."""
        refs_agree = not self.ref or not other.ref or self.ref == other.ref
        return refs_agree and self.before == other.before and self.after == other.after


@dataclass(frozen=True)
class Duplicate:
    of: Push


@dataclass(frozen=True)
class Replaced:
    by: Push


@dataclass(frozen=True)
class Older:
    than: Push


@dataclass(frozen=True)
class Newest:
    pass


@dataclass(frozen=True)
class Collision:
    """Another push holds this epoch: only possible when a push log was lost with every
    Redis master (a fresh log counts from 1 again within the same second)."""

    with_: Push


Verdict = Duplicate | Replaced | Older | Newest | Collision


def judge(push: Push, known: Iterable[Push], *, floor: int = 0) -> Verdict:
    """Where ``push`` stands among the task's ``known`` (admitted) pushes.

    A known push with ``push``'s own epoch, identity and delivery is ``push`` itself,
    admitted before (a retried step): it is not compared with. ``floor`` is an epoch the
    task already moved to (the newest admitted one, where the known pushes may be
    trimmed).
    """
    others = []
    for k in known:
        if k.epoch != push.epoch:
            others.append(k)
        elif not k.same_push(push):
            return Collision(k)
        elif k.delivery and push.delivery and k.delivery != push.delivery:
            return Duplicate(k)
    for k in others:
        if k.same_push(push):
            return Duplicate(k)
    for k in others:
        if k.before == push.after and k.after != push.after:
            return Replaced(k)
    latest = newest(others)
    if latest is not None and latest.epoch > push.epoch:
        return Older(latest)
    if floor > push.epoch:
        return Older(Push(ref="", before="", after="", epoch=floor))
    return Newest()


def describe(verdict: Verdict, push: Push) -> str:
    """The reason a person reads in the log and the task's history."""
    head = push.after[:12]
    match verdict:
        case Duplicate(of=k):
            return f"duplicate: push {push.before[:12]}→{head} was admitted as epoch {k.epoch}"
        case Replaced(by=k):
            return f"superseded: head {head} was already replaced by {k.after[:12]}"
        case Older(than=k) if k.after:
            return (
                f"superseded: push of {head} is older than the task's newest push "
                f"{k.after[:12]} (epoch {push.epoch} < {k.epoch})"
            )
        case Older(than=k):
            return f"superseded: epoch {push.epoch} is older than the task's epoch {k.epoch}"
        case Collision(with_=k):
            return (
                f"epoch {push.epoch} was issued to {k.before[:12]}→{k.after[:12]} too: a push "
                "log was lost with every Redis master; this push needs a person to re-push"
            )
    return f"newest push of the task: {head} (epoch {push.epoch})"


def newest(known: Iterable[Push]) -> Push | None:
    return max(known, key=lambda k: k.epoch, default=None)


def slot_of(epoch: int) -> int:
    return epoch // EPOCH_SLOT


def epoch_for(*, pushed_at: datetime, sequence: int, parent: Push | None) -> int:
    """The epoch of a push taken in as the task's ``sequence``-th (rules 2 to 4)."""
    if not 1 <= sequence <= MAX_SEQUENCE:
        raise EpochsExhausted(
            f"push sequence {sequence} is outside 1..{MAX_SEQUENCE}: this task has taken in "
            "as many pushes as epochs can order; start a new task"
        )
    slot = int(pushed_at.timestamp())
    if parent is not None:
        slot = max(slot, slot_of(parent.epoch))
    return slot * EPOCH_SLOT + sequence


def parent_of(push: Push, known: Iterable[Push]) -> Push | None:
    """The newest known push whose ``after`` is this push's ``before`` (rule 2)."""
    return newest(k for k in known if k.after == push.before and k.after != push.after)


def newer_heads(push: Push, known: Sequence[Push]) -> frozenset[str]:
    """Heads of known pushes newer than ``push``: a larger epoch, or later in its chain."""
    newer = {k.after for k in known if k.epoch > push.epoch}
    frontier = {push.after}
    while frontier:
        following = {k.after for k in known if k.before in frontier} - newer - {push.after}
        newer |= following
        frontier = following
    return frozenset(newer)


def contained_in(head: str, later: str, known: Sequence[Push]) -> bool:
    """Whether ``later`` is ``head`` or descends from it through the known chain."""
    seen, frontier = {later}, {later}
    while frontier:
        if head in frontier:
            return True
        frontier = {k.before for k in known if k.after in frontier} - seen
        seen |= frontier
    return False


# -- the push log: what push-intake remembers of a task's admitted pushes ---------


@dataclass(frozen=True)
class PushRecord:
    """An admitted push and the first delivery that carried it (replayed to the rest)."""

    ref: str
    before: str
    after: str
    epoch: int
    delivery: str
    pushed_at: str
    pusher: str
    forced: bool = False

    @property
    def push(self) -> Push:
        return Push(
            ref=self.ref,
            before=self.before,
            after=self.after,
            epoch=self.epoch,
            delivery=self.delivery,
        )


@dataclass(frozen=True)
class PushLog:
    """A task's push counter and its newest admitted pushes."""

    sequence: int = 0
    pushes: tuple[PushRecord, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(
            {"sequence": self.sequence, "pushes": [asdict(p) for p in self.pushes]},
            separators=(",", ":"),
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> PushLog:
        data = json.loads(text)
        return cls(
            sequence=int(data["sequence"]),
            pushes=tuple(PushRecord(**p) for p in data.get("pushes", [])),
        )


@dataclass(frozen=True)
class Candidate:
    """A remediation push push-intake is about to take in."""

    ref: str
    before: str
    after: str
    delivery: str
    pushed_at: datetime
    pusher: str
    forced: bool = False


@dataclass(frozen=True)
class Admission:
    """What taking in a push decided: ``record`` is the push as admitted (by this
    delivery or an earlier one) or None when the push changes nothing (``reason``)."""

    verdict: Verdict
    record: PushRecord | None
    reason: str
    log: PushLog | None = None
    """The log to store, when this admission changed it."""


def admit(log: PushLog, candidate: Candidate) -> Admission:
    """Take ``candidate`` into the task's push log (the rule, at push-intake)."""
    known = [p.push for p in log.pushes]
    probe = Push(ref=candidate.ref, before=candidate.before, after=candidate.after, epoch=0)
    sequence = log.sequence + 1
    epoch = epoch_for(
        pushed_at=candidate.pushed_at, sequence=sequence, parent=parent_of(probe, known)
    )
    push = replace(probe, epoch=epoch)
    verdict = judge(push, known)
    reason = describe(verdict, push)
    if isinstance(verdict, Duplicate):
        first = next(p for p in log.pushes if p.epoch == verdict.of.epoch)
        return Admission(verdict, first, reason)
    if not isinstance(verdict, Newest):
        return Admission(verdict, None, reason)
    record = PushRecord(
        ref=candidate.ref,
        before=candidate.before,
        after=candidate.after,
        epoch=epoch,
        delivery=candidate.delivery,
        pushed_at=candidate.pushed_at.astimezone(UTC).isoformat(),
        pusher=candidate.pusher,
        forced=candidate.forced,
    )
    kept = sorted((*log.pushes, record), key=lambda p: p.epoch)[-MAX_PUSHES:]
    return Admission(verdict, record, reason, PushLog(sequence=sequence, pushes=tuple(kept)))
