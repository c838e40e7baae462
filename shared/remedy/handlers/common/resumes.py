"""Applying a decided resume to the task's play workflow — now, or when it gets there.

Shared by workflow-resume (the moment the chain decides) and the reconciler (kept
resumes whose workflow has since reached its suspend point). Under the task's lock:
the move goes through the allowed-transition table, a workflow already at a newer epoch
refuses it, the resume is done the ``argo resume`` way and the whole object is replaced
with its resourceVersion (re-read and redone on 409), then read back to verify. A
workflow not at a suspend point keeps the resume in the task's state; a missing one is
recorded with its reason. ``resumed_epoch`` makes it happen once per epoch.

Each decision that changes something is an Event on the workflow (on the task's state
ConfigMap when there is none): WorkflowResumed or StageResumed for a resume this step
wrote (not for one found already done), ResumeKept when a resume starts waiting, and
ResumeDropped when one is given up — the last two only when the decision is new (the
task's history has no such decision for that epoch), so a resume retried while it
waits does not repeat them. A remediation's decision is counted for the metrics with
its Event (resumed, with the time since its push; kept; dropped).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remedy.domain import audit, push_order
from remedy.domain import workflows as wf
from remedy.domain.agents import format_time, parse_time
from remedy.domain.audit import Reason
from remedy.domain.outcomes import RemediationOutcome
from remedy.domain.remediation import KeptResume, RemediationState
from remedy.domain.stages import Stage, reached, transition
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


@dataclass(frozen=True)
class StageResumer:
    """Resuming the workflow *at* a stage, for the PR events that end a wait.

    The workflow must be suspended at that very stage; remedy does not move the stage
    label (the template's own update-workflow-stage step does, after the resume, through
    the same transition table). An event for a stage not reached yet is kept in the
    state and applied when the workflow gets there; one for a stage already passed is
    ignored with a reason; a stage is resumed once per epoch (a remediation starts a new
    cycle, in which the stage may be waited at and resumed again).
    """

    workflows: Workflows
    actor: str = WORKFLOW_RESUME

    def apply(
        self, task: TaskStep, *, stage: Stage, delivery: str, reason: str, now: datetime
    ) -> Resumed:
        state = task.state
        epoch = state.epoch
        if state.stage_resumes.get(str(stage), -1) >= epoch:
            return Resumed(False, f"already resumed at {stage} in this cycle")
        for _ in range(CONFLICT_RETRIES):
            workflow = self.workflows.find(state.task_id)
            decided = _at_stage(workflow, stage)
            if isinstance(decided, Resumed):
                return self._settle(
                    task, decided, stage=stage, delivery=delivery, reason=reason, now=now,
                    workflow=workflow,
                )  # fmt: skip
            task.guard()
            try:
                self.workflows.replace(
                    wf.resumed(decided, now=format_time(now), why=f"{stage}: {reason}")
                )
            except Conflict:
                continue
            verified = self.workflows.find(state.task_id)
            if verified is None or wf.active_suspend_nodes(verified):
                raise ResumeNotVerified(f"task {state.task_id}'s workflow is still suspended")
            done = Resumed(
                True,
                f"{decided['metadata']['name']}: resumed at {stage} ({reason})",
                workflow=verified,
                from_stage=str(stage),
                to_stage=str(stage),
            )
            return self._settle(
                task, done, stage=stage, delivery=delivery, reason=reason, now=now,
                workflow=verified,
            )  # fmt: skip
        raise Conflict(f"task {state.task_id}'s workflow kept changing during the resume")

    def apply_kept(self, task: TaskStep, *, now: datetime) -> list[Resumed]:
        """Try every kept stage event again (the reconciler's part)."""
        return [
            self.apply(
                task,
                stage=Stage(kept.target_stage),
                delivery=kept.delivery,
                reason=kept.reason,
                now=now,
            )
            for kept in list(task.state.kept_stage_resumes)
        ]

    def _settle(
        self,
        task: TaskStep,
        result: Resumed,
        *,
        stage: Stage,
        delivery: str,
        reason: str,
        now: datetime,
        workflow: dict[str, Any] | None,
    ) -> Resumed:
        state = task.state
        others = [k for k in state.kept_stage_resumes if k.target_stage != str(stage)]
        was_kept = len(others) < len(state.kept_stage_resumes)
        decision = _stage_decision(result, was_kept=was_kept)
        if decision is not None:
            newest = push_order.newest(state.pushes)
            task.audit(
                decision,
                audit.workflow(workflow) if workflow else None,
                what=result.note,
                epoch=state.epoch,
                head=newest.after if newest else "",
                requested_by=self.actor,
                why=f"{reason} (delivery {delivery})",
            )
        if result.applied:
            state.stage_resumes = {**state.stage_resumes, str(stage): state.epoch}
        elif result.note.endswith("resume kept"):
            others.append(
                KeptResume(
                    epoch=state.epoch,
                    delivery=delivery,
                    target_stage=str(stage),
                    reason=reason,
                    kept_at=format_time(now),
                )
            )
        state.kept_stage_resumes = others
        state.log(
            at=now,
            epoch=state.epoch,
            delivery=delivery,
            step=STEP,
            outcome=result.note,
        )
        log.info("task %s: %s", state.task_id, result.note)
        return result


def _stage_decision(result: Resumed, *, was_kept: bool) -> Reason | None:
    """The Event a stage resume's outcome is worth: a kept one starts or stops waiting,
    an applied one resumed; a PR event simply ignored is worth none."""
    if result.applied:
        return Reason.STAGE_RESUMED
    if result.note.endswith("resume kept"):
        return None if was_kept else Reason.RESUME_KEPT
    return Reason.RESUME_DROPPED if was_kept else None


def _at_stage(workflow: dict[str, Any] | None, stage: Stage) -> Resumed | dict[str, Any]:
    if workflow is None:
        return Resumed(False, f"no play workflow for the task yet: {stage} resume kept")
    name = workflow["metadata"]["name"]
    if wf.finished(workflow):
        return Resumed(False, f"{name} has finished")
    current = wf.stage(workflow)
    if current is not stage:
        if reached(current, stage):
            return Resumed(False, f"{name} is already past {stage} (at {current}): ignored")
        return Resumed(False, f"{name} has not reached {stage} yet (at {current}): resume kept")
    waiting = [n for n in wf.active_suspend_nodes(workflow) if n.stage in (None, str(stage))]
    if not waiting:
        return Resumed(False, f"{name} is at {stage} but not suspended yet: resume kept")
    return workflow
