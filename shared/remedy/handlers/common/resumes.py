"""Applying a decided resume to the task's play workflow — now, or when it gets there.

Shared by workflow-resume (the moment the chain decides) and the reconciler (kept
resumes whose workflow has since reached its suspend point). Under the task's lock:
the move goes through the allowed-transition table, a workflow already at a newer epoch
refuses it, the resume is done the ``argo resume`` way and the whole object is replaced
with its resourceVersion (re-read and redone on 409), then read back to verify. A
workflow not at a suspend point keeps the resume in the task's state; a missing one is
recorded with its reason. ``resumed_epoch`` makes it happen once per epoch.

Each decision that changes something is an Event on the workflow (on the task's state
ConfigMap when there is none): WorkflowResumed for a resume this step wrote (not for one
found already done), ResumeKept when a resume starts waiting, and
ResumeDropped when one is given up — the last two only when the decision is new (the
task's history has no such decision for that epoch), so a resume retried while it
waits does not repeat them. A remediation's decision is counted for the metrics with
its Event (resumed, with the time since its push; kept; dropped). Resuming *at* a stage,
for the PR events, is :mod:`remedy.handlers.common.stage_resumes`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remedy.domain import audit
from remedy.domain import workflows as wf
from remedy.domain.agents import format_time, parse_time
from remedy.domain.audit import Reason
from remedy.domain.outcomes import RemediationOutcome
from remedy.domain.remediation import KeptResume, RemediationState
from remedy.domain.stages import Stage, transition
from remedy.handlers.common.tasks import TaskStep
from remedy.ports import Conflict, RetryLater, Workflows

log = logging.getLogger("remedy.resumes")

CONFLICT_RETRIES = 5
STEP = "workflow-resume"
"""The history's step for every resume decision, whoever applies it."""
WORKFLOW_RESUME = "remedy/workflow-resume"
"""Who asks for a resume decided by the chain; the reconciler applies kept ones."""


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
    actor: str = WORKFLOW_RESUME
    """Who asks, in the Events (the reconciler, for the kept resumes it applies)."""

    def apply(
        self,
        task: TaskStep,
        *,
        epoch: int,
        head: str,
        delivery: str,
        target: Stage,
        reason: str,
        now: datetime,
    ) -> Resumed:
        """Resume the task's workflow to ``target`` for the push of ``head`` at ``epoch``
        (or keep it for later, while it is owed)."""
        state = task.state
        for _ in range(CONFLICT_RETRIES):
            workflow = self.workflows.find(state.task_id)
            result = self._decide(
                workflow, epoch=epoch, head=head, target=target, reason=reason, task=task
            )
            if isinstance(result, Resumed):
                return self._settle(
                    task,
                    result,
                    epoch=epoch,
                    head=head,
                    delivery=delivery,
                    target=target,
                    reason=reason,
                    now=now,
                    workflow=workflow,
                )
            task.guard()
            changed = wf.resumed(result, now=format_time(now), why=f"{reason}, epoch {epoch}")
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
                task,
                done,
                epoch=epoch,
                head=head,
                delivery=delivery,
                target=target,
                reason=reason,
                now=now,
                workflow=verified,
                fresh=True,
            )
        raise Conflict(f"task {state.task_id}'s workflow kept changing during the resume")

    def _decide(
        self,
        workflow: dict[str, Any] | None,
        *,
        epoch: int,
        head: str,
        target: Stage,
        reason: str,
        task: TaskStep,
    ) -> Resumed | dict[str, Any]:
        if workflow is None:
            return Resumed(False, "no play workflow for the task yet: resume kept")
        name = workflow["metadata"]["name"]
        if wf.epoch_of(workflow) == epoch:
            # the workflow itself records that this epoch's resume was applied (our state
            # save may have failed after it): the fence at the resource, never a second one
            previous = wf.labels_of(workflow).get(wf.PREVIOUS_STAGE_LABEL, "")
            return Resumed(
                True,
                f"{name}: already resumed for epoch {epoch}",
                workflow=workflow,
                from_stage=previous,
                to_stage=str(target),
            )
        dropped = wf.not_owed(workflow, epoch=epoch, head=head, known=task.state.pushes)
        if dropped:
            return Resumed(False, f"{dropped}; resume dropped")
        if wf.finished(workflow):
            return Resumed(False, f"{name} has finished")
        source = wf.stage(workflow)
        move = transition(source, target, remediation=reason == "remediation")
        if not move.allowed:
            return Resumed(False, f"{name}: {move.reason}")
        if not wf.suspended(workflow):
            return Resumed(False, f"{name} is not at a suspend point yet ({source}): resume kept")
        return wf.moved(workflow, target=target, epoch_value=epoch, reason=reason, head=head)

    def _settle(
        self,
        task: TaskStep,
        result: Resumed,
        *,
        epoch: int,
        head: str,
        delivery: str,
        target: Stage,
        reason: str,
        now: datetime,
        workflow: dict[str, Any] | None,
        fresh: bool = False,
    ) -> Resumed:
        state = task.state
        decided_before = any(  # this very decision, for this epoch, is in the history
            e.epoch == epoch and e.step == STEP and e.outcome == result.note for e in state.history
        )
        decision = _decision(result, fresh=fresh, new=not decided_before)
        if decision is not None:
            task.audit(
                decision,
                audit.workflow(workflow) if workflow else None,
                what=result.note,
                epoch=epoch,
                head=head,
                requested_by=self.actor,
                why=f"{reason} (delivery {delivery})",
            )
            _count(task, decision, epoch=epoch)
        state.workflow_note = result.note
        if result.applied:
            state.resumed_epoch = max(state.resumed_epoch, epoch)
            state.kept_resume = None
        elif result.note.endswith("resume kept"):
            state.kept_resume = KeptResume(
                epoch=epoch,
                head=head,
                delivery=delivery,
                target_stage=str(target),
                reason=reason,
                kept_at=format_time(now),
            )
        else:
            state.kept_resume = None
        state.log(at=now, epoch=epoch, delivery=delivery, step=STEP, outcome=result.note)
        log.info("task %s: %s", state.task_id, result.note)
        return result


def _decision(result: Resumed, *, fresh: bool, new: bool) -> Reason | None:
    """The Event a remediation resume's outcome is worth, if any."""
    if result.applied:
        return Reason.WORKFLOW_RESUMED if fresh else None
    if not new:
        return None
    return Reason.RESUME_KEPT if result.note.endswith("resume kept") else Reason.RESUME_DROPPED


def owed(state: RemediationState, epoch: int) -> bool:
    """Whether ``epoch``'s remediation still waits for its resume: admitted, not resumed,
    and not refused (a kept resume is still owed) — what a newer push supersedes."""
    if epoch <= 0 or state.resumed_epoch >= epoch:
        return False
    head = next((h for h in state.heads if h.epoch == epoch), None)
    if head is None:
        return False
    return not any(
        e.epoch == epoch
        and e.step == STEP
        and e.delivery == head.delivery
        and not e.outcome.endswith("resume kept")
        for e in state.history
    )


_OUTCOMES: dict[Reason, RemediationOutcome] = {
    Reason.WORKFLOW_RESUMED: "resumed",
    Reason.RESUME_KEPT: "kept",
    Reason.RESUME_DROPPED: "dropped",
}


def _count(task: TaskStep, decision: Reason, *, epoch: int) -> None:
    """A remediation's resume decision, for the metrics: once, as its Event is."""
    pushed = next((h.pushed_at for h in task.state.heads if h.epoch == epoch), None)
    resumed = decision is Reason.WORKFLOW_RESUMED
    pushed_at = parse_time(pushed) if resumed and pushed else None
    task.tally.remediation(_OUTCOMES[decision], pushed_at=pushed_at)


def _shows(workflow: dict[str, Any], *, epoch: int, target: Stage) -> bool:
    return (
        wf.stage(workflow) is target
        and wf.epoch_of(workflow) >= epoch
        and not wf.active_suspend_nodes(workflow)
        and not (workflow.get("spec") or {}).get("suspend")
    )
