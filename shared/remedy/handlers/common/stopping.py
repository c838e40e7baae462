"""Announcing when all of an epoch's cancelled agents are confirmed stopped.

A cancelled run counts as stopped once it is gone: deleted before it started, or
acknowledged and then deleted (control-api), or force-deleted after its grace period
(the reconciler) — each deletion confirmed by a 404. When the last run cancelled for an
epoch stops, ``agents.stopped`` tells workflow-resume that the resume may go ahead. Its
id is derived from the epoch's delivery and the set of runs that stopped, so announcing
the same stop twice is harmless, and a later stop in the same epoch (a person cancelled
again) is a new event rather than the old id with another payload (which the ledger
would refuse as a mismatch).
"""

from __future__ import annotations

import hashlib

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
        event_id=stopped_id(head.delivery, [f"{c.key}/{c.uid}" for c in cancelled]),
        traceparent=tracing.child(traceparent, delivery_id=head.delivery),
    )


def stopped_id(delivery: str, runs: list[str]) -> str:
    """``<delivery>:agents.stopped.<digest of the stopped runs>``."""
    digest = hashlib.sha256("\n".join(sorted(runs)).encode()).hexdigest()[:12]
    return event_id(delivery, f"agents.stopped.{digest}")
