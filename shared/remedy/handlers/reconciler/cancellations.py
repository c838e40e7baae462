"""The reconciler's cancellation pass: confirm stopped agents, force the ones that never acked.

A run asked to stop (two-phase cancellation) has until its cancellation's ``deadline``
(``REMEDY_CANCEL_GRACE_SECONDS`` after the request) to acknowledge and be deleted. For
every cancellation of a task not yet stopped, under the task's lock:

- the run is gone (404, or its name now holds another uid) → ``gone``, or ``forced``
  when this pass force-deleted it earlier and was waiting on its finalizers;
- its deadline passed → it is deleted with ``gracePeriodSeconds`` (so its pod gets
  SIGTERM, then SIGKILL once the grace runs out) and the deletion confirmed by reading
  the run back → ``forced``; a run still there (finalizers) keeps its status with an
  outcome saying the force was issued, and is confirmed on a later tick;
- otherwise it is within its grace and left alone.

Why the "force issued" mark lives in the outcome text: the state model has no field for
it and its statuses are exactly the ones every step agrees on, so the pass marks its own
pending force with :data:`FORCE_PREFIX` and only reads back what it wrote itself.
Every change is recorded in the task's history, and told as an Event on the run:
CancellationForced when this pass deletes it, CancellationConfirmedGone when it finds
it gone (a forced run whose finalizers finished, or one that went by other means). The
pass returns the epochs whose last pending cancellation it stopped, so the caller can
announce ``agents.stopped`` promptly. For the metrics each run counts once, by what
stopped it first: ``forced`` when this pass issues its deletion, ``already_gone`` only
for a run that went by itself (a deletion of agent-cancel's held by finalizers counted
already).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from remedy.domain import audit
from remedy.domain.agents import AgentRun, parse_time
from remedy.domain.audit import Reason
from remedy.domain.remediation import Cancellation, CancellationStatus, RemediationState
from remedy.handlers.common.cancelling import DELETION_PENDING
from remedy.handlers.common.tasks import TaskStep
from remedy.ports import AgentRuns, NotFound

STEP = "reconciler"
FORCE_PREFIX = "no ack within "


@dataclass
class Settled:
    """What the pass did, as run keys (``namespace/name``) per outcome."""

    gone: list[str] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)
    force_pending: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    stopped_epochs: set[int] = field(default_factory=set)
    """Epochs whose last pending cancellation this pass stopped."""


def pending(state: RemediationState) -> list[Cancellation]:
    return [c for c in state.cancellations.values() if not c.stopped]


def needs_settling(state: RemediationState, runs: AgentRuns, *, now: datetime) -> bool:
    """A lock-free look: would :func:`settle` change anything for ``state``?

    Only a run that is gone, or past its deadline and not already being force-deleted,
    needs the task's lock; a run within its grace is left alone without taking it.
    """
    for cancellation in pending(state):
        run = _current(runs, cancellation)
        if run is None:
            return True
        if _expired(cancellation, now) and not (_issued(cancellation) and run.deleting):
            return True
    return False


def settle(task: TaskStep, runs: AgentRuns, *, now: datetime, force_grace_s: int) -> Settled:
    """Confirm, force or leave every pending cancellation of ``task`` (see the module)."""
    settled = Settled()
    open_epochs = {c.epoch for c in pending(task.state)}
    for cancellation in sorted(pending(task.state), key=lambda c: (c.epoch, c.key)):
        _settle_one(task, runs, cancellation, now=now, force_grace_s=force_grace_s, into=settled)
    settled.stopped_epochs = {e for e in open_epochs if task.state.all_stopped(e)}
    return settled


def forced_any(task: TaskStep, epoch: int) -> bool:
    return any(c.status == "forced" for c in task.state.cancellations_for(epoch))


def _settle_one(
    task: TaskStep,
    runs: AgentRuns,
    cancellation: Cancellation,
    *,
    now: datetime,
    force_grace_s: int,
    into: Settled,
) -> None:
    run = _current(runs, cancellation)
    issued = _issued(cancellation)
    if run is None:
        if issued:
            _update(task, cancellation, now, status="forced", outcome=_forced(cancellation))
            into.forced.append(cancellation.key)
            what = "force-deleted earlier, now confirmed gone (its finalizers finished)"
        else:
            _update(task, cancellation, now, status="gone", outcome="confirmed gone (404)")
            into.gone.append(cancellation.key)
            what = f"confirmed gone (404) while its cancellation was {cancellation.status}"
            if _went_by_itself(cancellation):
                task.tally.cancellation("already_gone")
        _audit(task, Reason.CANCELLATION_CONFIRMED_GONE, cancellation, what=what)
        return
    if not _expired(cancellation, now):
        into.waiting.append(cancellation.key)
        return
    if issued and run.deleting:
        into.force_pending.append(cancellation.key)  # finalizers still running: next tick
        return
    # Saved before the delete: should the save after it fail (a conflict, a crash), the
    # retry finds the run gone *and* knows this pass deleted it, so it records "forced"
    # rather than mistaking it for a run that went away by itself.
    issuing = f"{_forced(cancellation)} (grace {force_grace_s}s): deleting"
    _update(task, cancellation, now, status=cancellation.status, outcome=issuing)
    task.save()
    if not issued and cancellation.outcome != DELETION_PENDING:
        # counted once, when first issued (a retry after a failed delete is no new one);
        # a run deleted before it started and held by finalizers counted as that
        task.tally.cancellation("forced")
    runs.delete(run, grace_period_s=force_grace_s)
    deleted = f"{_forced(cancellation)} with gracePeriodSeconds {force_grace_s}"
    if runs.gone(run):
        _update(task, cancellation, now, status="forced", outcome=_forced(cancellation))
        into.forced.append(cancellation.key)
        _audit(task, Reason.CANCELLATION_FORCED, cancellation, what=f"{deleted}, confirmed gone")
        return
    note = f"{_forced(cancellation)} (grace {force_grace_s}s); waiting for its finalizers"
    _update(task, cancellation, now, status=cancellation.status, outcome=note)
    into.force_pending.append(cancellation.key)
    what = f"{deleted}; waiting for its finalizers"
    _audit(task, Reason.CANCELLATION_FORCED, cancellation, what=what)


def _audit(task: TaskStep, reason: Reason, cancellation: Cancellation, *, what: str) -> None:
    task.audit(
        reason,
        audit.coderun(cancellation.namespace, cancellation.name, cancellation.uid),
        what=f"{cancellation.agent or 'the agent'}'s run: {what}",
        epoch=cancellation.epoch,
        head=cancellation.for_head,
        requested_by=cancellation.requested_by,
        why=cancellation.reason,
    )


def _went_by_itself(cancellation: Cancellation) -> bool:
    """Gone while nobody had stopped it yet: asked and never acknowledged, not a
    deletion of ours waiting on finalizers (that one was counted when it was made)."""
    return cancellation.status == "requested" and cancellation.outcome != DELETION_PENDING


def _expired(cancellation: Cancellation, now: datetime) -> bool:
    """Past its deadline; an unreadable deadline counts as passed (the run is obsolete)."""
    deadline = parse_time(cancellation.deadline)
    return deadline is None or now >= deadline


def _issued(cancellation: Cancellation) -> bool:
    """This pass already force-deleted the run (and is waiting on its finalizers)."""
    return cancellation.outcome.startswith(FORCE_PREFIX)


def _current(runs: AgentRuns, cancellation: Cancellation) -> AgentRun | None:
    """The very run that was cancelled, or None when it is gone (404 or another uid)."""
    try:
        run = runs.get(cancellation.namespace, cancellation.name)
    except NotFound:
        return None
    return run if run.uid == cancellation.uid else None


def _forced(cancellation: Cancellation) -> str:
    requested = parse_time(cancellation.requested_at)
    deadline = parse_time(cancellation.deadline)
    grace = round((deadline - requested).total_seconds()) if requested and deadline else 0
    return f"{FORCE_PREFIX}{grace}s: force-deleted"


def _update(
    task: TaskStep,
    cancellation: Cancellation,
    now: datetime,
    *,
    status: CancellationStatus,
    outcome: str,
) -> None:
    state = task.state
    state.put_cancellation(cancellation.model_copy(update={"status": status, "outcome": outcome}))
    delivery = next((h.delivery for h in state.heads if h.epoch == cancellation.epoch), "")
    state.log(
        at=now,
        epoch=cancellation.epoch,
        delivery=delivery,
        step=STEP,
        outcome=f"{cancellation.key}: {status}: {outcome}",
    )
