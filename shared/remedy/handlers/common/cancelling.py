"""Cancelling a task's obsolete agent runs: the one cancellation path every step uses.

agent-cancel (for a remediation push or a cancellation request) and feedback-intake
(before it starts a Rex remediation run) both come here, inside a task step (under the
task's lock): the runs are planned by :func:`remedy.domain.agents.plan` — which keeps,
with a reason, every run that must survive — and each obsolete one is deleted at once
when it has not started, or asked to stop (annotations guarded by the resourceVersion
the decision was made on, re-read on a conflict). Every outcome is recorded in the
task's remediation state under the request's epoch, with the request's reason and
who asked — kept there after the CodeRun (and its ``cancel-*`` annotations) is gone —
and told as an Event on the run (CancellationDeletedBeforeStart, CancellationRequested)
when this step deleted it or wrote the request; a run already asked gets none. Each
is counted for the metrics as it is told (``task.tally``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from remedy.domain import agents, audit
from remedy.domain.agents import Action, AgentPolicy, AgentRun, Obsolescence, Planned, plan
from remedy.domain.audit import Reason
from remedy.domain.remediation import Cancellation, CancellationStatus
from remedy.events.models import CancellationOutcome
from remedy.handlers.common.tasks import TaskStep
from remedy.ports import AgentRuns, Conflict, NotFound

CONFLICT_RETRIES = 3
DELETION_PENDING = "deletion pending"
"""The outcome of a not-started run whose deletion waits on finalizers (the reconciler
confirms it gone later: that is how it was cancelled, not a run that went by itself)."""
EVERYTHING_BEFORE = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class CancelSettings:
    policy: AgentPolicy
    grace_s: float


@dataclass(frozen=True)
class CancelRequest:
    """What makes the work obsolete, and on whose behalf it is stopped."""

    epoch: int
    for_head: str
    reason: str
    requested_by: str
    obsolescence: Obsolescence

    @classmethod
    def all_downstream(
        cls, *, task_id: int, epoch: int, head: str, reason: str, requested_by: str
    ) -> CancelRequest:
        """Every unfinished downstream run, whatever head it works on (feedback, API)."""
        return cls(
            epoch=epoch,
            for_head=head,
            reason=reason,
            requested_by=requested_by,
            obsolescence=Obsolescence(task_id=task_id, head_sha="", pushed_at=EVERYTHING_BEFORE),
        )


class Canceller:
    def __init__(self, *, runs: AgentRuns, settings: CancelSettings) -> None:
        self.runs = runs
        self.settings = settings

    def cancel(
        self, task: TaskStep, request: CancelRequest, now: datetime
    ) -> list[CancellationOutcome]:
        planned = plan(
            self.runs.list_for_task(request.obsolescence.task_id),
            push=request.obsolescence,
            policy=self.settings.policy,
        )
        return [self._apply(task, each, request, now) for each in planned]

    def _apply(
        self, task: TaskStep, planned: Planned, request: CancelRequest, now: datetime
    ) -> CancellationOutcome:
        run = planned.run
        if planned.action is Action.KEEP:
            return _outcome(run, "kept", planned.reason)
        task.guard()
        if planned.action is Action.DELETE:
            self.runs.delete(run, grace_period_s=0)
            gone = self.runs.gone(run)
            self._record(
                task,
                run,
                request,
                now,
                status="deleted" if gone else "requested",
                outcome="deleted before it started" if gone else DELETION_PENDING,
            )
            pending = "" if gone else "; its deletion is pending (finalizers)"
            what = f"deleted {run.agent or 'the agent'}'s run before it started{pending}"
            _audit(task, Reason.CANCELLATION_DELETED_BEFORE_START, run, request, what=what)
            task.tally.cancellation("deleted_before_start")
            return _outcome(run, "deleted", planned.reason)
        already: list[AgentRun] = []
        asked = self._request_stop(run, request, now, already=already)
        if asked is None:
            self._record(task, run, request, now, status="gone", outcome="gone before the request")
            task.tally.cancellation("already_gone")
            return _outcome(run, "already-stopped", "gone before it could be asked")
        self._record(task, asked, request, now, status="requested", outcome=planned.reason)
        if not already:
            grace = f"{self.settings.grace_s:g}s"
            what = f"asked {run.agent or 'the agent'}'s run to stop and acknowledge within {grace}"
            _audit(task, Reason.CANCELLATION_REQUESTED, asked, request, what=what)
            task.tally.cancellation_requested()
        return _outcome(asked, "cancel-requested", planned.reason)

    def _request_stop(
        self, run: AgentRun, request: CancelRequest, now: datetime, *, already: list[AgentRun]
    ) -> AgentRun | None:
        """Write the cancellation request, re-reading on a resourceVersion conflict;
        ``already`` gets the run when it was found asked by this (or a newer) request."""
        deadline = now + timedelta(seconds=self.settings.grace_s)
        annotations = {
            agents.CANCEL_REQUESTED_AT: agents.format_time(now),
            agents.CANCEL_REASON: request.reason,
            agents.CANCEL_REQUESTED_BY: request.requested_by,
            agents.CANCEL_EPOCH: str(request.epoch),
            agents.CANCEL_FOR_HEAD: request.for_head,
            agents.CANCEL_DEADLINE: agents.format_time(deadline),
        }
        return annotate(
            self.runs,
            run,
            annotations,
            # already asked by this (or a newer) request
            settled=lambda seen: _asked(seen, request.epoch, into=already),
            failure="kept changing; retry later",
        )

    def _record(
        self,
        task: TaskStep,
        run: AgentRun,
        request: CancelRequest,
        now: datetime,
        *,
        status: CancellationStatus,
        outcome: str,
    ) -> None:
        previous = task.state.cancellations.get(run.key)
        requested_at = agents.format_time(now)
        reason, requested_by = request.reason, request.requested_by
        if previous is not None and previous.epoch == request.epoch:
            # asked once per epoch: the first request's time and words are the run's
            requested_at = previous.requested_at
            reason = previous.reason or reason
            requested_by = previous.requested_by or requested_by
        task.state.put_cancellation(
            Cancellation(
                namespace=run.namespace,
                name=run.name,
                uid=run.uid,
                agent=run.agent,
                epoch=request.epoch,
                for_head=request.for_head,
                requested_at=requested_at,
                deadline=agents.format_time(now + timedelta(seconds=self.settings.grace_s)),
                status=status,
                outcome=outcome,
                reason=reason,
                requested_by=requested_by,
            )
        )


def annotate(
    runs: AgentRuns,
    run: AgentRun,
    annotations: dict[str, str],
    *,
    settled: Callable[[AgentRun], bool],
    same_uid: bool = False,
    failure: str,
) -> AgentRun | None:
    """Merge ``annotations`` onto ``run``, guarded by the resourceVersion it was read at;
    on a conflict read it again and retry (at most :data:`CONFLICT_RETRIES` times).

    Answers the run as written, or as read once ``settled`` says it needs nothing more,
    or None when it is gone (with ``same_uid``, also when a new run took its name);
    raises :class:`Conflict` (``"<run> <failure>"``) when it kept changing.
    """
    for _ in range(CONFLICT_RETRIES):
        if settled(run):
            return run
        try:
            return runs.annotate(run, annotations)
        except NotFound:
            return None
        except Conflict:
            try:
                fresh = runs.get(run.namespace, run.name)
            except NotFound:
                return None
            if same_uid and fresh.uid != run.uid:
                return None
            run = fresh
    raise Conflict(f"{run.key} {failure}")


def _asked(run: AgentRun, epoch: int, *, into: list[AgentRun]) -> bool:
    if run.cancel_epoch is not None and run.cancel_epoch >= epoch:
        into.append(run)
        return True
    return False


def _audit(
    task: TaskStep, reason: Reason, run: AgentRun, request: CancelRequest, *, what: str
) -> None:
    task.audit(
        reason,
        audit.coderun(run.namespace, run.name, run.uid),
        what=what,
        epoch=request.epoch,
        head=request.for_head,
        requested_by=request.requested_by,
        why=request.reason,
    )


def _outcome(run: AgentRun, action: str, reason: str) -> CancellationOutcome:
    return CancellationOutcome.model_validate(
        {
            "namespace": run.namespace,
            "coderun": run.name,
            "agent": run.agent,
            "action": action,
            "reason": reason,
        }
    )
