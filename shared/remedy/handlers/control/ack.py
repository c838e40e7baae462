"""An agent acknowledges a cancellation request: record it, delete the run, confirm it gone.

The second phase of the cooperative cancellation (the first is agent-cancel's request
on the CodeRun). Only the run's own agent may acknowledge — not another agent, not an
operator on its behalf — and only a run that was asked to stop: the request shows as
the ``remedy.dev/cancel-*`` annotations (agent-cancel writes ``cancel-epoch`` together
with ``cancel-requested-at``) or as a Cancellation in the task's remediation state.

The run is read once, before the lock, to authorize the caller. Under the task's lock
(the same one agent-cancel and the reconciler take, so the three never interleave) the
task's state is read, the run is deleted (uid precondition, so a recreated run of that
name is never touched; default grace: it is stopping anyway) and confirmed gone by a
404; the Cancellation becomes ``gone``, or ``acknowledged`` while a finalizer holds the
deletion (then ``remedy.dev/cancel-acknowledged-at`` is merged onto the run too, and the
reconciler confirms it later), and the state is saved by compare-and-swap. When that
made every run cancelled for the epoch stopped, the caller gets the ``agents.stopped``
event to send once the lock is released. Five API calls in all, and a
CancellationAcknowledged Event on the run (on the task's state ConfigMap when the run
was already gone), with the cancellation's reason and who asked for it.

A repeated acknowledgement writes nothing. Because a successful one deletes the run, a
repeat usually finds the run gone; it is then answered from the remediation state that
recorded the first one (which costs a look through the states, on this path only).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from cloudevents.http import CloudEvent

from remedy.domain import agents, audit
from remedy.domain.agents import AgentRun
from remedy.domain.audit import Reason
from remedy.domain.remediation import Cancellation, RemediationState
from remedy.handlers.common.cancelling import annotate
from remedy.handlers.common.stopping import stopped_event
from remedy.handlers.common.tasks import NoState, TaskStep, TaskSteps
from remedy.handlers.control.auth import Principal
from remedy.handlers.control.results import conflict, forbidden, not_found
from remedy.ports import AgentRuns, NotFound

log = logging.getLogger("remedy.control_api")

PRODUCER = "control-api"


@dataclass(frozen=True)
class Acked:
    """The acknowledgement as recorded; ``event`` is ``agents.stopped`` to send, if due."""

    cancellation: Cancellation
    already: bool
    event: CloudEvent | None = None


@dataclass(frozen=True)
class _Target:
    namespace: str
    name: str
    uid: str
    task_id: int

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Acknowledgements:
    def __init__(self, *, runs: AgentRuns, tasks: TaskSteps) -> None:
        self._runs = runs
        self._tasks = tasks

    def acknowledge(self, caller: Principal, namespace: str, name: str) -> Acked:
        """Acknowledge the cancellation of ``namespace/name`` for ``caller``.

        Raises :class:`~remedy.handlers.control.results.ApiError` (403, 404, 409) when
        it cannot, and :class:`~remedy.ports.RetryLater` when the task is busy.
        """
        try:
            run = self._runs.get(namespace, name)
        except NotFound:
            return self._after_gone(caller, f"{namespace}/{name}")
        _authorize(caller, agent=run.agent, key=run.key)
        if run.task_id is None:
            raise conflict(f"{run.key} has no task id, so no cancellation was requested for it")
        return self._record(caller, _Target(namespace, name, run.uid, run.task_id), seen=run)

    def _after_gone(self, caller: Principal, key: str) -> Acked:
        """The run is gone: a repeat of an acknowledgement, or one for a run gone meanwhile."""
        found = self._find_recorded(key)
        if found is None:
            raise not_found(f"there is no CodeRun {key}, and no cancellation of it is recorded")
        state, recorded = found
        _authorize(caller, agent=recorded.agent, key=key)
        if recorded.status != "requested":
            return Acked(recorded, already=True)
        target = _Target(recorded.namespace, recorded.name, recorded.uid, state.task_id)
        return self._record(caller, target, seen=None)

    def _find_recorded(self, key: str) -> tuple[RemediationState, Cancellation] | None:
        newest: tuple[RemediationState, Cancellation] | None = None
        for task_id in self._tasks.states.task_ids():
            state, _ = self._tasks.states.load(task_id)
            recorded = state.cancellations.get(key) if state else None
            if (
                state
                and recorded
                and (newest is None or recorded.requested_at > newest[1].requested_at)
            ):
                newest = (state, recorded)
        return newest

    def _record(self, caller: Principal, target: _Target, *, seen: AgentRun | None) -> Acked:
        """Under the task's lock: delete the run, confirm it gone, record it in the state.

        ``seen`` is the run as read before the lock (None: it was gone); the deletion's
        uid precondition and the 404 check make acting on that read safe.
        """
        try:
            with self._tasks.open(target.task_id, repository=None) as task:
                acked = self._settle(task, caller, target, seen)
        except NoState:
            raise conflict(
                f"task {target.task_id} has no remediation state, so no cancellation of "
                f"{target.key} was requested: nothing to acknowledge"
            ) from None
        if not acked.already:
            log.info("task %s: %s %s", target.task_id, target.key, acked.cancellation.outcome)
        return acked

    def _settle(
        self, task: TaskStep, caller: Principal, target: _Target, seen: AgentRun | None
    ) -> Acked:
        now, state = self._tasks.clock(), task.state
        recorded = _recorded(state, target.key, target.uid)
        if recorded is None:
            if seen is None or seen.cancel_epoch is None:
                raise conflict(
                    f"no cancellation was requested for {target.key}: nothing to acknowledge"
                )
            recorded = _from_annotations(seen, state, now)
        if recorded.status != "requested":
            return Acked(recorded, already=True)
        note = f"acknowledged by {caller.label}"
        if seen is None:
            status, note = "gone", note + "; it was already gone"
        else:
            task.guard()
            self._runs.delete(seen, grace_period_s=None)
            gone = self._runs.gone(seen)
            if not gone:  # a finalizer holds it: the run itself shows it was acknowledged
                task.guard()
                self._annotate(seen, now)
            status = "gone" if gone else "acknowledged"
            note += "; deleted, confirmed gone" if gone else "; deleted, deletion pending"
        updated = Cancellation.model_validate(
            {**recorded.model_dump(), "status": status, "outcome": note}
        )
        state.put_cancellation(updated)
        task.audit(
            Reason.CANCELLATION_ACKNOWLEDGED,
            None if seen is None else audit.coderun(seen.namespace, seen.name, seen.uid),
            what=f"{updated.agent or 'the agent'}'s run {target.key}: {note}",
            epoch=updated.epoch,
            head=updated.for_head,
            requested_by=updated.requested_by,
            why=updated.reason,
        )
        task.tally.cancellation("acknowledged")
        state.log(
            at=now,
            epoch=updated.epoch,
            delivery=_delivery(state, updated.epoch),
            step=PRODUCER,
            outcome=f"{target.key}: {note}",
        )
        task.save()
        forced = any(c.status == "forced" for c in state.cancellations_for(updated.epoch))
        event = stopped_event(task, updated.epoch, producer=PRODUCER, forced=forced)
        return Acked(updated, already=False, event=event)

    def _annotate(self, run: AgentRun, now: datetime) -> AgentRun | None:
        """Record the acknowledgement on the run, re-reading on a resourceVersion conflict."""
        return annotate(
            self._runs,
            run,
            {agents.CANCEL_ACKNOWLEDGED_AT: agents.format_time(now)},
            settled=lambda seen: seen.acknowledged,
            same_uid=True,
            failure="kept changing while being acknowledged; retry",
        )


def _authorize(caller: Principal, *, agent: str, key: str) -> None:
    if caller.is_agent(agent):
        return
    if caller.kind == "operator":
        raise forbidden(
            f"only {agent or 'the run agent'} may acknowledge the cancellation of {key}; "
            "operators cannot acknowledge on an agent's behalf"
        )
    raise forbidden(f"{caller.label} is not the agent of {key} ({agent or 'unknown agent'})")


def _recorded(state: RemediationState | None, key: str, uid: str) -> Cancellation | None:
    recorded = state.cancellations.get(key) if state else None
    return recorded if recorded is not None and recorded.uid == uid else None


def _from_annotations(run: AgentRun, state: RemediationState, now: datetime) -> Cancellation:
    """A request seen only on the run (its record was lost): recorded as of now."""
    epoch = run.cancel_epoch or state.epoch
    head = next((h.sha for h in state.heads if h.epoch == epoch), "")
    return Cancellation(
        namespace=run.namespace,
        name=run.name,
        uid=run.uid,
        agent=run.agent,
        epoch=epoch,
        for_head=head,
        requested_at=agents.format_time(now),
        deadline=agents.format_time(now),
        status="requested",
        outcome="requested (seen on the run only)",
        reason=run.cancel_reason,
        requested_by=run.cancel_requested_by,
    )


def _delivery(state: RemediationState, epoch: int) -> str:
    return next((h.delivery for h in state.heads if h.epoch == epoch), PRODUCER)
