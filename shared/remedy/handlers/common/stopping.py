"""Announcing when all of an epoch's cancelled agents are confirmed stopped.

A cancelled run counts as stopped once it is gone: deleted before it started, or
acknowledged and then deleted (control-api), or force-deleted after its grace period
(the reconciler) — each deletion confirmed by a 404. When the last run cancelled for an
epoch stops, ``agents.stopped`` tells workflow-resume that the resume may go ahead. Its
id is derived from the epoch's delivery, so announcing twice is harmless.
"""

from __future__ import annotations

from cloudevents.http import CloudEvent

from remedy.events import tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import AgentsStopped
from remedy.handlers.common.tasks import TaskStep


def stopped_event(
    task: TaskStep, epoch: int, *, producer: str, forced: bool, traceparent: str | None = None
) -> CloudEvent | None:
    """``agents.stopped`` for ``epoch`` when every run cancelled for it has stopped."""
    state = task.state
    cancelled = state.cancellations_for(epoch)
    if not cancelled or not state.all_stopped(epoch):
        return None
    head = next((h for h in state.heads if h.epoch == epoch), None)
    if head is None:
        return None
    data = AgentsStopped(
        task_id=state.task_id,
        repository=state.repository,
        pr_number=state.pr_number,
        head_sha=head.sha,
        correlation_id=head.delivery,
        epoch=epoch,
        coderuns=tuple(sorted(c.name for c in cancelled)),
        forced=forced,
    )
    return task_event(
        data,
        producer=producer,
        event_id=event_id(head.delivery, "agents.stopped"),
        traceparent=tracing.child(traceparent, delivery_id=head.delivery),
    )
