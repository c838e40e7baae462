"""agent-cancel's core: stop the obsolete review work of a task, never anything else.

For "remediation requested" (task T, head S, epoch E), under T's lock: a push that a
known later push already replaced is stale and changes nothing; otherwise the task moves
to epoch E, and each downstream agent's run that is not already working on S (or a newer
head) is stopped — deleted at once when it has not started, otherwise asked to stop
(two-phase: a cancellation request on the CodeRun, guarded by its resourceVersion, that
the agent acknowledges through control-api; the reconciler forces it after the grace
period). Every outcome lands in the task's remediation state, which then says whether
all of epoch E's cancelled agents are confirmed stopped.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import agents
from remedy.domain.agents import Action, AgentPolicy, AgentRun, Obsolescence, Planned, plan
from remedy.domain.remediation import Cancellation, Head
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import AgentsCancelled, CancellationOutcome, RemediationRequested
from remedy.handlers.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.results import Outcome
from remedy.handlers.tasks import TaskStep, TaskSteps
from remedy.ports import AgentRuns, Conflict, Idempotency, NotFound, Rejected, Steps

log = logging.getLogger("remedy.agent_cancel")

PRODUCER = "agent-cancel"
REQUESTED_BY = "remedy/agent-cancel"
CONFLICT_RETRIES = 3


@dataclass(frozen=True)
class CancelSettings:
    policy: AgentPolicy
    grace_s: float


class AgentCancel:
    def __init__(
        self,
        *,
        runs: AgentRuns,
        tasks: TaskSteps,
        idempotency: Idempotency,
        settings: CancelSettings,
    ) -> None:
        self._runs = runs
        self._tasks = tasks
        self._idempotency = idempotency
        self._settings = settings

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] != catalogue.REMEDIATION_REQUESTED:
            raise Rejected(f"agent-cancel does not take {event['type']} events")
        request = RemediationRequested.model_validate(event.get_data())
        traceparent = tracing.child(
            event.get_attributes().get("traceparent"), delivery_id=request.correlation_id
        )
        return run_once(
            self._idempotency,
            event,
            fingerprint=fingerprint_of(request.model_dump(mode="json")),
            work=lambda steps: self._cancel(request, traceparent, steps),
        )

    def _cancel(
        self, request: RemediationRequested, traceparent: str, steps: Steps
    ) -> dict[str, Any]:
        now = self._tasks.clock()
        with self._tasks.open(request.task_id, request.repository) as task:
            state = task.state
            head = Head(
                sha=request.after_sha,
                before=request.before_sha,
                epoch=request.epoch,
                delivery=request.delivery_id,
                pushed_at=agents.format_time(request.pushed_at),
            )
            reason = _superseded(task, head)
            if reason:
                state.log(
                    at=now,
                    epoch=request.epoch,
                    delivery=request.delivery_id,
                    step=PRODUCER,
                    outcome=reason,
                )
                task.save()
                log.info("task %s: %s", request.task_id, reason)
                return ack(reason)
            state.record_head(head)
            state.epoch = max(state.epoch, request.epoch)
            state.branch = request.branch
            steps.record("admitted", {"epoch": request.epoch})
            obsolescence = Obsolescence(
                task_id=request.task_id,
                head_sha=request.after_sha,
                pushed_at=request.pushed_at,
                newer_heads=state.newer_heads(head),
            )
            outcomes = [
                self._apply(task, planned, request, now)
                for planned in plan(
                    self._runs.list_for_task(request.task_id),
                    push=obsolescence,
                    policy=self._settings.policy,
                )
            ]
            all_stopped = state.all_stopped(request.epoch)
            acted = [o for o in outcomes if o.action != "kept"]
            state.log(
                at=now,
                epoch=request.epoch,
                delivery=request.delivery_id,
                step=PRODUCER,
                outcome=f"{len(acted)} cancelled, {len(outcomes) - len(acted)} kept",
            )
            task.save()
            steps.record("saved", {"all_stopped": all_stopped})
        data = AgentsCancelled(
            task_id=request.task_id,
            repository=request.repository,
            pr_number=state.pr_number,
            head_sha=request.after_sha,
            correlation_id=request.correlation_id,
            epoch=request.epoch,
            outcomes=tuple(outcomes),
            all_stopped=all_stopped,
        )
        return reply(
            task_event(
                data,
                producer=PRODUCER,
                event_id=event_id(request.correlation_id, "agents.cancelled"),
                traceparent=traceparent,
            )
        )

    def _apply(
        self, task: TaskStep, planned: Planned, request: RemediationRequested, now: datetime
    ) -> CancellationOutcome:
        run = planned.run
        if planned.action is Action.KEEP:
            return _outcome(run, "kept", planned.reason)
        task.guard()
        if planned.action is Action.DELETE:
            self._runs.delete(run, grace_period_s=0)
            status = "deleted" if self._runs.gone(run) else "requested"
            note = "deleted before it started" if status == "deleted" else "deletion pending"
            self._record(task, run, request, now, status=status, outcome=note)
            return _outcome(run, "deleted", planned.reason)
        asked = self._request_stop(run, request, now)
        if asked is None:
            self._record(task, run, request, now, status="gone", outcome="gone before the request")
            return _outcome(run, "already-stopped", "gone before it could be asked")
        self._record(task, asked, request, now, status="requested", outcome=planned.reason)
        return _outcome(asked, "cancel-requested", planned.reason)

    def _request_stop(
        self, run: AgentRun, request: RemediationRequested, now: datetime
    ) -> AgentRun | None:
        """Write the cancellation request, re-reading on a resourceVersion conflict."""
        deadline = now + timedelta(seconds=self._settings.grace_s)
        annotations = {
            agents.CANCEL_REQUESTED_AT: agents.format_time(now),
            agents.CANCEL_REASON: f"remediation push {request.after_sha[:12]} by {request.pusher}",
            agents.CANCEL_REQUESTED_BY: REQUESTED_BY,
            agents.CANCEL_EPOCH: str(request.epoch),
            agents.CANCEL_FOR_HEAD: request.after_sha,
            agents.CANCEL_DEADLINE: agents.format_time(deadline),
        }
        for _ in range(CONFLICT_RETRIES):
            if run.cancel_epoch is not None and run.cancel_epoch >= request.epoch:
                return run  # already asked by this (or a newer) remediation
            try:
                return self._runs.annotate(run, annotations)
            except NotFound:
                return None
            except Conflict:
                try:
                    run = self._runs.get(run.namespace, run.name)
                except NotFound:
                    return None
        raise Conflict(f"{run.key} kept changing; retry later")

    def _record(
        self,
        task: TaskStep,
        run: AgentRun,
        request: RemediationRequested,
        now: datetime,
        *,
        status: str,
        outcome: str,
    ) -> None:
        previous = task.state.cancellations.get(run.key)
        requested_at = (
            previous.requested_at if previous and previous.epoch == request.epoch else None
        )
        task.state.put_cancellation(
            Cancellation(
                namespace=run.namespace,
                name=run.name,
                uid=run.uid,
                agent=run.agent,
                epoch=request.epoch,
                for_head=request.after_sha,
                requested_at=requested_at or agents.format_time(now),
                deadline=agents.format_time(now + timedelta(seconds=self._settings.grace_s)),
                status=status,  # type: ignore[arg-type]
                outcome=outcome,
            )
        )


def _superseded(task: TaskStep, head: Head) -> str | None:
    newer = task.state.superseded_by(head)
    if newer is not None:
        return f"superseded: head {head.sha[:12]} was already replaced by {newer.sha[:12]}"
    if head.epoch < task.state.epoch and all(h.epoch != head.epoch for h in task.state.heads):
        return f"superseded: epoch {head.epoch} is older than the task's epoch {task.state.epoch}"
    return None


def _outcome(run: AgentRun, action: str, reason: str) -> CancellationOutcome:
    return CancellationOutcome(
        namespace=run.namespace,
        coderun=run.name,
        agent=run.agent,
        action=action,  # type: ignore[arg-type]
        reason=reason,
    )
