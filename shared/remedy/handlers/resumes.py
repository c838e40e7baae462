"""Applying a decided resume to the task's play workflow — now, or when it gets there.

Shared by workflow-resume (the moment the chain decides) and the reconciler (kept
resumes whose workflow has since reached its suspend point). Under the task's lock:
the move goes through the allowed-transition table, a workflow already at a newer epoch
refuses it, the resume is done the ``argo resume`` way and the whole object is replaced
with its resourceVersion (re-read and redone on 409), then read back to verify. A
workflow not at a suspend point keeps the resume in the task's state; a missing one is
recorded with its reason. ``resumed_epoch`` makes it happen once per epoch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remedy.domain import workflows as wf
from remedy.domain.agents import format_time
from remedy.domain.remediation import KeptResume
from remedy.domain.stages import Stage, transition
from remedy.handlers.tasks import TaskStep
from remedy.ports import Conflict, RetryLater, Workflows

log = logging.getLogger("remedy.resumes")

CONFLICT_RETRIES = 5


class ResumeNotVerified(RetryLater):
    """The workflow read back does not show the resume; retried from the start."""


@dataclass(frozen=True)
class Resumed:
    applied: bool
    note: str
    workflow: dict[str, Any] | None = None
    from_stage: str = ""
    to_stage: str = ""


@dataclass(frozen=True)
class ResumeApplier:
    workflows: Workflows

    def apply(
        self,
        task: TaskStep,
        *,
        epoch: int,
        delivery: str,
        target: Stage,
        reason: str,
        now: datetime,
    ) -> Resumed:
        """Resume the task's workflow to ``target`` for ``epoch`` (or keep it for later)."""
        state = task.state
        for _ in range(CONFLICT_RETRIES):
            workflow = self.workflows.find(state.task_id)
            result = self._decide(workflow, epoch=epoch, target=target, reason=reason)
            if isinstance(result, Resumed):
                return self._settle(
                    task,
                    result,
                    epoch=epoch,
                    delivery=delivery,
                    target=target,
                    reason=reason,
                    now=now,
                )
            task.guard()
            changed = wf.resumed(result, now=format_time(now))
            try:
                self.workflows.replace(changed)
            except Conflict:
                continue  # argo resume's own rule: re-read and redo on 409
            verified = self.workflows.find(state.task_id)
            if verified is None or not _shows(verified, epoch=epoch, target=target):
                raise ResumeNotVerified(f"task {state.task_id}'s workflow does not show the resume")
            source = wf.stage(workflow) if workflow else Stage.PENDING
            done = Resumed(
                applied=True,
                note=f"{verified['metadata']['name']}: {source} → {target}, resumed",
                workflow=verified,
                from_stage=str(source),
                to_stage=str(target),
            )
            return self._settle(
                task, done, epoch=epoch, delivery=delivery, target=target, reason=reason, now=now
            )
        raise Conflict(f"task {state.task_id}'s workflow kept changing during the resume")

    def _decide(
        self, workflow: dict[str, Any] | None, *, epoch: int, target: Stage, reason: str
    ) -> Resumed | dict[str, Any]:
        if workflow is None:
            return Resumed(False, "no play workflow for the task yet: resume kept")
        name = workflow["metadata"]["name"]
        if wf.epoch(workflow) > epoch:
            return Resumed(False, f"{name} is already at epoch {wf.epoch(workflow)}")
        if wf.finished(workflow):
            return Resumed(False, f"{name} has finished")
        source = wf.stage(workflow)
        move = transition(source, target, remediation=reason == "remediation")
        if not move.allowed:
            return Resumed(False, f"{name}: {move.reason}")
        if not wf.suspended(workflow):
            return Resumed(False, f"{name} is not at a suspend point yet ({source}): resume kept")
        return wf.moved(workflow, target=target, epoch_value=epoch, reason=reason)

    def _settle(
        self,
        task: TaskStep,
        result: Resumed,
        *,
        epoch: int,
        delivery: str,
        target: Stage,
        reason: str,
        now: datetime,
    ) -> Resumed:
        state = task.state
        state.workflow_note = result.note
        if result.applied:
            state.resumed_epoch = max(state.resumed_epoch, epoch)
            state.kept_resume = None
        elif result.note.endswith("resume kept"):
            state.kept_resume = KeptResume(
                epoch=epoch,
                delivery=delivery,
                target_stage=str(target),
                reason=reason,
                kept_at=format_time(now),
            )
        else:
            state.kept_resume = None
        state.log(
            at=now, epoch=epoch, delivery=delivery, step="workflow-resume", outcome=result.note
        )
        log.info("task %s: %s", state.task_id, result.note)
        return result


def _shows(workflow: dict[str, Any], *, epoch: int, target: Stage) -> bool:
    return (
        wf.stage(workflow) is target
        and wf.epoch(workflow) >= epoch
        and not wf.active_suspend_nodes(workflow)
        and not (workflow.get("spec") or {}).get("suspend")
    )
