"""The ``workflow.resumed`` event every applied resume announces, built in one place.

workflow-resume (a remediation or stage resume applied at once) and the reconciler (a
kept resume applied later, ``deferred``) both report an applied :class:`Resumed` the
same way: the workflow's name and namespace, the stage move, and an id derived from
the delivery that caused it, so a replayed step emits an identical event.
"""

from __future__ import annotations

from cloudevents.http import CloudEvent

from remedy.events.codec import event_id, task_event
from remedy.events.models import WorkflowResumed
from remedy.handlers.common.resumes import Resumed


def resumed_event(
    result: Resumed,
    *,
    task_id: int,
    repository: str,
    pr_number: int | None,
    head_sha: str,
    delivery: str,
    epoch: int,
    deferred: bool,
    producer: str,
    traceparent: str,
) -> CloudEvent:
    """``workflow.resumed`` for an applied ``result``; ``delivery`` is its correlation id."""
    workflow = result.workflow or {}
    data = WorkflowResumed(
        task_id=task_id,
        repository=repository,
        pr_number=pr_number,
        head_sha=head_sha,
        correlation_id=delivery,
        epoch=epoch,
        workflow=workflow["metadata"]["name"],
        namespace=workflow["metadata"]["namespace"],
        from_stage=result.from_stage,
        to_stage=result.to_stage,
        deferred=deferred,
    )
    return task_event(
        data,
        producer=producer,
        event_id=event_id(delivery, "workflow.resumed"),
        traceparent=traceparent,
    )
