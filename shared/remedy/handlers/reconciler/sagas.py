"""The reconciler's stuck-saga pass: find where a remediation stopped, re-drive it from there.

A remediation (epoch E of a task, started by push delivery D) is *settled* once its
resume was applied, kept for a later suspend point, or refused with a recorded reason
(a ``workflow-resume`` entry for E and D in the task's history). One that is not settled
and has made no recorded progress for ``REMEDY_SAGA_DEADLINE_SECONDS`` is *stuck*: an
event was lost (the in-memory broker restarted), dead-lettered, or a step's holder
crashed mid-way.

How it is re-driven. Every step is keyed in the idempotency ledger by its input event's
(source, id), and every id is deterministic (``<D>:<step>``), so the saga can be walked
without any event in hand. It has two branches that meet at workflow-resume::

    push (github source, D)                        → push-intake  → remediation.requested
    (/remedy/push-intake, D:remediation.requested) → agent-cancel → agents.cancelled
    (/remedy/agent-cancel, D:agents.cancelled)     → workflow-resume
    (/remedy/push-intake, D:remediation.requested) → label-update → labels.updated
    (/remedy/label-update, D:labels.updated)       → workflow-resume

On each branch, the first step whose entry is not done (missing, failed, or in progress
with an expired lease — a crashed holder) gets its input re-sent: the previous step's
reply, exactly as recorded in that step's ledger result (same id, source, data,
traceparent; an input both branches need is sent once, and the broker hands it to both
consumers, the one that had it replaying its record). The ledger then does the rest: a
failed or abandoned claim is RESUMED after its recovery point, a missing one runs. When
every step of both branches is done but workflow-resume only acknowledged (agents were
still stopping) and all of E's cancelled agents are now stopped, the reconciler's own
``agents.stopped`` is (re-)sent unless workflow-resume already took it.

What this cannot recover, by construction: a push whose reply never reached
agent-cancel leaves no trace in the task's state (the epoch is only known to the
ledger under the push's id), so only the broker's retries and the dead-letter record
cover it; a step whose input is not recorded (its predecessor's entry expired after
the ledger's 7-day TTL) cannot be re-sent; chains started by other events
(``cancellation.requested``) are not walked. A step that keeps failing is re-driven at
most ``max_redrives`` times, one saga deadline apart; a saga with nothing left to send
(every input lost, or a step that stopped it on purpose) is given up at once. Either
way a note in the history leaves it to a person, and later ticks leave it alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from cloudevents.http import CloudEvent, from_json

from remedy.domain.agents import parse_time
from remedy.domain.remediation import Head, RemediationState
from remedy.events.codec import SOURCE_PREFIX, event_id
from remedy.handlers.chain import agent_cancel, label_update, push_intake, workflow_resume
from remedy.handlers.common.once import scoped_source
from remedy.ports import LedgerRecord, LedgerRecords

REDRIVE = "re-drive: "
GAVE_UP = "re-drive: gave up"
RECONCILER_SOURCE = SOURCE_PREFIX + "reconciler"


@dataclass(frozen=True)
class Link:
    """One step of the chain: who consumes which input event."""

    consumer: str
    source: str
    event_id: str

    def record(self, ledger: LedgerRecords) -> LedgerRecord | None:
        """What the ledger holds of this step (keyed as :func:`run_once` keys it)."""
        return ledger.record(
            source=scoped_source(self.consumer, self.source), event_id=self.event_id
        )


@dataclass(frozen=True)
class Walk:
    """Where the saga stands, and the events that re-drive it (if any)."""

    events: tuple[CloudEvent, ...]
    note: str
    expired_claims: int = 0
    completed: bool = False
    """Every step is done and workflow-resume only acknowledged."""
    hopeless: bool = False
    """Nothing the reconciler could ever send moves this saga on."""

    @property
    def event(self) -> CloudEvent | None:
        return self.events[0] if self.events else None


Branch = tuple["Link", ...]


def chain(repository: str, delivery: str) -> tuple[Branch, ...]:
    """The remediation saga started by push delivery ``delivery``: its two branches."""
    pushed = Link(push_intake.PRODUCER, f"https://github.com/{repository}", delivery)
    requested = event_id(delivery, push_intake.STEP)
    from_intake = SOURCE_PREFIX + push_intake.PRODUCER
    return (
        (
            pushed,
            Link(agent_cancel.PRODUCER, from_intake, requested),
            Link(
                workflow_resume.PRODUCER,
                SOURCE_PREFIX + agent_cancel.PRODUCER,
                event_id(delivery, "agents.cancelled"),
            ),
        ),
        (
            pushed,
            Link(label_update.PRODUCER, from_intake, requested),
            Link(
                workflow_resume.PRODUCER,
                SOURCE_PREFIX + label_update.PRODUCER,
                event_id(delivery, "labels.updated"),
            ),
        ),
    )


def stopped_link(stopped_event_id: str) -> Link:
    """workflow-resume's entry for the reconciler's own ``agents.stopped`` of that id."""
    return Link(workflow_resume.PRODUCER, RECONCILER_SOURCE, stopped_event_id)


def walk(ledger: LedgerRecords, branches: tuple[Branch, ...]) -> Walk:
    """Walk every branch; together they say what to re-send (each input once)."""
    walks = [_walk(ledger, branch) for branch in branches]
    events: dict[str, CloudEvent] = {}
    for found in walks:
        if found.event is not None:
            events.setdefault(str(found.event["id"]), found.event)
    working = any(w.event is None and not w.completed and not w.hopeless for w in walks)
    completed = all(w.completed for w in walks)
    telling = [w for w in walks if w.event is not None] or walks
    return Walk(
        tuple(events.values()),
        "; ".join(dict.fromkeys(w.note for w in telling)),
        sum(w.expired_claims for w in walks),
        completed=completed,
        hopeless=not events and not working and not completed,
    )


def _walk(ledger: LedgerRecords, links: Branch) -> Walk:
    """The first step of one branch not done gets its recorded input back."""
    previous: str | None = None
    expired = 0
    for link in links:
        entry = link.record(ledger)
        if entry is not None and entry.status == "done":
            result: Mapping[str, Any] = entry.result or {}
            reply = result.get("event")
            if not isinstance(reply, str):
                ack = str(result.get("ack", "no reply"))[:200]
                final = link is links[-1]
                note = f"{link.consumer} acknowledged: {ack}"
                return Walk((), note, expired, completed=final, hopeless=not final)
            previous = reply
            continue
        if entry is not None and entry.status == "in_progress":
            if (entry.lease_remaining_s or 0.0) > 0:
                return Walk((), f"{link.consumer} is working on it (live claim)", expired)
            expired += 1
        if previous is None:
            continue  # this step's input is not recorded; a later step may still be
        return Walk(
            (from_json(previous),),
            f"re-sent {link.event_id} to {link.consumer} ({_why(entry)})",
            expired,
        )
    return Walk((), "no step left to re-drive from", expired, hopeless=True)


def taken(ledger: LedgerRecords, link: Link) -> Literal["done", "working", "open"]:
    """Whether ``link``'s consumer completed its input, is on it now, or never got it."""
    entry = link.record(ledger)
    if entry is None or entry.status == "failed":
        return "open"
    if entry.status == "done":
        return "done"
    return "working" if (entry.lease_remaining_s or 0.0) > 0 else "open"


def _why(entry: LedgerRecord | None) -> str:
    if entry is None:
        return "it never took it"
    if entry.status == "failed":
        return f"its attempt failed: {(entry.last_error or '')[:120]}"
    return f"its holder vanished after {entry.recovery_point or 'no step'}"


# -- when is a saga stuck -------------------------------------------------------------


def unsettled_head(state: RemediationState) -> Head | None:
    """The push of the task's current epoch when its remediation is not settled yet."""
    epoch = state.epoch
    if epoch <= 0 or state.resumed_epoch >= epoch:
        return None
    kept = state.kept_resume
    if kept is not None and kept.epoch >= epoch:
        return None
    head = next((h for h in state.heads if h.epoch == epoch), None)
    if head is None:
        return None
    # the remediation's own resume decision logs under its push's delivery; stage
    # events (PR opened, ...) log under theirs and do not settle the remediation
    decided = any(
        e.step == "workflow-resume" and e.epoch == epoch and e.delivery == head.delivery
        for e in state.history
    )
    return None if decided else head


def last_progress(state: RemediationState, epoch: int) -> datetime | None:
    times = [t for e in state.history if e.epoch == epoch and (t := parse_time(e.at))]
    return max(times) if times else None


def stuck(state: RemediationState, *, now: datetime, deadline_s: float) -> Head | None:
    """The current epoch's push when its saga made no progress for ``deadline_s``."""
    head = unsettled_head(state)
    if head is None:
        return None
    progress = last_progress(state, head.epoch)
    if progress is None or now - progress < timedelta(seconds=deadline_s):
        return None
    return head


def redrives(state: RemediationState, epoch: int) -> int:
    return sum(
        1
        for e in state.history
        if e.epoch == epoch and e.outcome.startswith(REDRIVE) and not e.outcome.startswith(GAVE_UP)
    )


def gave_up(state: RemediationState, epoch: int) -> bool:
    return any(e.epoch == epoch and e.outcome.startswith(GAVE_UP) for e in state.history)
