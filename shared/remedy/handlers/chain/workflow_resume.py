"""workflow-resume's core: resume the play workflow once the remediation allows it.

A remediation's resume needs two things, done in parallel by two functions: the PR labels
reset (label-update's ``labels.updated``) and the push admitted with every agent it
cancelled confirmed stopped (agent-cancel's ``agents.cancelled`` when they stopped at
once, else ``agents.stopped`` from control-api or the reconciler). Each of those events
comes here; whichever finds both conditions true in the task's state moves the workflow
to ``waiting-pr-created`` and resumes it (see :mod:`remedy.handlers.common.resumes`), so
the resume happens promptly and exactly once whatever order they arrive in. A newer
epoch supersedes an older one.
"""

from __future__ import annotations

import re
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import stage_events
from remedy.domain.identifiers import validate_delivery_id
from remedy.domain.pushes import Ignored
from remedy.domain.stage_events import StageEvent, StagePolicy
from remedy.domain.stages import REMEDIATION_TARGET
from remedy.events import catalogue, tracing
from remedy.events.github import PullRequestFacts, pull_request_facts
from remedy.events.models import AgentsCancelled, AgentsStopped, LabelsUpdated, TaskEvent
from remedy.handlers.common.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.common.results import Ack, Outcome
from remedy.handlers.common.resumed_events import resumed_event
from remedy.handlers.common.resumes import ResumeApplier
from remedy.handlers.common.stage_resumes import StageResumer
from remedy.handlers.common.tasks import TaskSteps
from remedy.ports import Idempotency, Rejected, Steps

PRODUCER = "workflow-resume"
_SHA = re.compile(r"^[0-9a-f]{40}$")
REASON = "remediation"

_GITHUB = {
    catalogue.PULL_REQUEST: "pull_request",
    catalogue.PULL_REQUEST_REVIEW: "pull_request_review",
}
_INPUTS: dict[str, type[TaskEvent]] = {
    catalogue.LABELS_UPDATED: LabelsUpdated,
    catalogue.AGENTS_CANCELLED: AgentsCancelled,
    catalogue.AGENTS_STOPPED: AgentsStopped,
}


class WorkflowResume:
    def __init__(
        self,
        *,
        applier: ResumeApplier,
        stages: StageResumer,
        policy: StagePolicy,
        tasks: TaskSteps,
        idempotency: Idempotency,
    ) -> None:
        self._applier = applier
        self._stages = stages
        self._policy = policy
        self._tasks = tasks
        self._idempotency = idempotency

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] in _GITHUB:
            return self._stage_event(event)
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
            consumer=PRODUCER,
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
            if all(head.epoch != epoch for head in state.heads):
                return ack(f"epoch {epoch}: waiting for agent-cancel to admit the push")
            if state.labels_epoch < epoch:
                return ack(f"epoch {epoch}: waiting for the labels to be reset")
            waiting = [c.key for c in state.cancellations_for(epoch) if not c.stopped]
            if waiting:
                return ack(f"epoch {epoch}: waiting for {len(waiting)} agent(s) to stop")
            result = self._applier.apply(
                task,
                epoch=epoch,
                head=data.head_sha,
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
        return reply(
            resumed_event(
                result,
                task_id=data.task_id,
                repository=data.repository,
                pr_number=state.pr_number,
                head_sha=data.head_sha,
                delivery=data.correlation_id,
                epoch=epoch,
                deferred=False,
                producer=PRODUCER,
                traceparent=traceparent,
            )
        )

    # -- stage-aware resumes (pull request events) ------------------------------------

    def _stage_event(self, event: CloudEvent) -> Outcome:
        facts = pull_request_facts(event)
        decision = stage_events.classify(
            kind=_GITHUB[event["type"]],
            action=facts.action,
            labels=facts.labels,
            head_ref=facts.head_ref,
            label=facts.label,
            sender=facts.sender,
            review_state=facts.review_state,
            reviewer=facts.reviewer,
            policy=self._policy,
        )
        if isinstance(decision, Ignored):
            return Ack(decision.reason)
        delivery = validate_delivery_id(str(event["id"]))
        traceparent = tracing.child(event.get_attributes().get("traceparent"), delivery_id=delivery)
        return run_once(
            self._idempotency,
            event,
            consumer=PRODUCER,
            fingerprint=fingerprint_of(
                {
                    "stage": decision.stage,
                    "task": decision.task_id,
                    "pr": facts.number,
                    "repo": str(facts.repository),
                }
            ),
            work=lambda steps: self._resume_at(decision, facts, delivery, traceparent),
        )

    def _resume_at(
        self, decision: StageEvent, facts: PullRequestFacts, delivery: str, traceparent: str
    ) -> dict[str, Any]:
        now = self._tasks.clock()
        repository = facts.repository.full_name
        with self._tasks.open(decision.task_id, repository) as task:
            if facts.number:
                task.state.pr_number = task.state.pr_number or facts.number
            result = self._stages.apply(
                task, stage=decision.stage, delivery=delivery, reason=decision.reason, now=now
            )
            task.save()
            epoch = max(task.state.epoch, 1)
            pr_number = task.state.pr_number
        if not result.applied:
            return ack(result.note)
        return reply(
            resumed_event(
                result,
                task_id=decision.task_id,
                repository=repository,
                pr_number=pr_number,
                head_sha=facts.head_sha if _SHA.match(facts.head_sha) else "0" * 40,
                delivery=delivery,
                epoch=epoch,
                deferred=False,
                producer=PRODUCER,
                traceparent=traceparent,
            )
        )
