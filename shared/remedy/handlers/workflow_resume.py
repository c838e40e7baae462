"""workflow-resume's core: resume the play workflow once the remediation allows it.

A remediation's resume needs two things: the PR labels reset (``labels.updated``) and
every agent cancelled for that epoch confirmed stopped (``agents.stopped``, or already
so when agent-cancel finished). Both events come here; whichever finds both conditions
true moves the workflow to ``waiting-pr-created`` and resumes it (see
:mod:`remedy.handlers.resumes`), so the resume happens promptly and exactly once
whatever order they arrive in. A newer epoch supersedes an older one.
"""

from __future__ import annotations

from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain.stages import REMEDIATION_TARGET
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import AgentsStopped, LabelsUpdated, TaskEvent, WorkflowResumed
from remedy.handlers.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.results import Outcome
from remedy.handlers.resumes import ResumeApplier
from remedy.handlers.tasks import TaskSteps
from remedy.ports import Idempotency, Rejected, Steps

PRODUCER = "workflow-resume"
REASON = "remediation"

_INPUTS: dict[str, type[TaskEvent]] = {
    catalogue.LABELS_UPDATED: LabelsUpdated,
    catalogue.AGENTS_STOPPED: AgentsStopped,
}


class WorkflowResume:
    def __init__(
        self, *, applier: ResumeApplier, tasks: TaskSteps, idempotency: Idempotency
    ) -> None:
        self._applier = applier
        self._tasks = tasks
        self._idempotency = idempotency

    def handle(self, event: CloudEvent) -> Outcome:
        model = _INPUTS.get(event["type"])
        if model is None:
            raise Rejected(f"workflow-resume does not take {event['type']} events")
        data = model.model_validate(event.get_data())
        traceparent = tracing.child(
            event.get_attributes().get("traceparent"), delivery_id=data.correlation_id
        )
        return run_once(
            self._idempotency,
            event,
            fingerprint=fingerprint_of(data.model_dump(mode="json")),
            work=lambda steps: self._resume(data, traceparent, steps),
        )

    def _resume(self, data: TaskEvent, traceparent: str, steps: Steps) -> dict[str, Any]:
        now = self._tasks.clock()
        epoch = data.epoch
        with self._tasks.open(data.task_id, data.repository) as task:
            state = task.state
            if epoch < state.epoch:
                return ack(f"superseded by epoch {state.epoch}")
            if state.resumed_epoch >= epoch:
                return ack(f"already resumed for epoch {epoch}")
            if state.labels_epoch < epoch:
                return ack(f"epoch {epoch}: waiting for the labels to be reset")
            waiting = [c.key for c in state.cancellations_for(epoch) if not c.stopped]
            if waiting:
                return ack(f"epoch {epoch}: waiting for {len(waiting)} agent(s) to stop")
            result = self._applier.apply(
                task,
                epoch=epoch,
                delivery=next(
                    (h.delivery for h in state.heads if h.epoch == epoch), data.correlation_id
                ),
                target=REMEDIATION_TARGET,
                reason=REASON,
                now=now,
            )
            task.save()
            steps.record("resume", {"applied": result.applied, "note": result.note})
        if not result.applied:
            return ack(result.note)
        workflow = result.workflow or {}
        resumed = WorkflowResumed(
            task_id=data.task_id,
            repository=data.repository,
            pr_number=state.pr_number,
            head_sha=data.head_sha,
            correlation_id=data.correlation_id,
            epoch=epoch,
            workflow=workflow["metadata"]["name"],
            namespace=workflow["metadata"]["namespace"],
            from_stage=result.from_stage,
            to_stage=result.to_stage,
            deferred=False,
        )
        return reply(
            task_event(
                resumed,
                producer=PRODUCER,
                event_id=event_id(data.correlation_id, "workflow.resumed"),
                traceparent=traceparent,
            )
        )
