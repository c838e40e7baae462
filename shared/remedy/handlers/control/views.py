"""What control-api shows of a task: a one-line summary for the task list, and the
timeline of its remediations for the task's page.

Both are pure views over a task's remediation state and its play workflow, read by the
caller: the list reads every state and the play workflows in one request each and
calls :func:`summary` per task, so a page costs two requests whatever its size.

A task's stage is its play workflow's ``current-stage`` label (``pending`` when the
workflow has not recorded one, as :func:`remedy.domain.stages.Stage.parse` reads it;
null when the task has no workflow). A label that is no stage remedy knows is shown as
it is: the view reports what the workflow says, the stage filter matches it exactly.

The timeline groups what the state remembers by epoch, one entry per admitted push
(``heads``), newest first; its steps are the history entries of that epoch in the order
they happened, each named by the function that wrote it — agent-cancel admits the push
and cancels the agents, control-api and the reconciler record acknowledged and forced
cancellations, label-update the labels, workflow-resume the resume (or that it was
kept for a later suspend point). History entries of an epoch no admitted push has (a
push refused as older, for one) are in the history only. Both are bounded as the state
is (its newest 50 heads, 100 history entries).
"""

from __future__ import annotations

from typing import Any, get_args

from remedy.domain import push_order
from remedy.domain import workflows as wf
from remedy.domain.agents import parse_time
from remedy.domain.remediation import CancellationStatus, Event, RemediationState
from remedy.domain.stages import UnknownStage

STATUSES: tuple[str, ...] = get_args(CancellationStatus)


def stage_of(workflow: wf.Workflow | None) -> str | None:
    """The workflow's current stage as it records it; None without a workflow."""
    if workflow is None:
        return None
    try:
        return str(wf.stage(workflow))
    except UnknownStage:
        return wf.labels_of(workflow).get(wf.STAGE_LABEL)


def summary(state: RemediationState, workflow: wf.Workflow | None) -> dict[str, Any]:
    """One task as the task list shows it."""
    newest = push_order.newest(state.pushes)
    counts = dict.fromkeys(STATUSES, 0)
    for cancellation in state.cancellations.values():
        counts[cancellation.status] += 1
    return {
        "task_id": state.task_id,
        "repository": state.repository,
        "stage": stage_of(workflow),
        "epoch": state.epoch,
        "head": newest.after if newest is not None else None,
        "cancellations": counts,
        "cancellation_requested": any(
            c.status == "requested" for c in state.cancellations_for(state.epoch)
        ),
        "last_change": last_change(state.history),
    }


def last_change(history: list[Event]) -> str | None:
    """When the newest history entry was written (RFC 3339), or None without history."""
    timed = [(parse_time(entry.at), entry.at) for entry in history]
    known = [(moment, at) for moment, at in timed if moment is not None]
    return max(known)[1] if known else None


def timeline(state: RemediationState) -> list[dict[str, Any]]:
    """The task's remediations, newest first: each push with what followed it."""
    steps: dict[int, list[Event]] = {}
    for entry in state.history:
        steps.setdefault(entry.epoch, []).append(entry)
    return [
        {
            "epoch": head.epoch,
            "head": head.sha,
            "before": head.before,
            "delivery": head.delivery,
            "pushed_at": head.pushed_at,
            "steps": [_step(entry) for entry in steps.get(head.epoch, [])],
        }
        for head in sorted(state.heads, key=lambda h: h.epoch, reverse=True)
    ]


def _step(entry: Event) -> dict[str, Any]:
    return {
        "step": entry.step,
        "at": entry.at,
        "outcome": entry.outcome,
        "delivery": entry.delivery,
    }
