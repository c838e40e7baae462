"""Resuming the play workflow *at* a stage, for the PR events that end a wait.

PR opened, labelled ready-for-qa or approved each end one suspend of the play workflow.
Unlike a remediation's resume (:mod:`remedy.handlers.common.resumes`, whose pieces this
shares: the verified ``argo resume``, the step name, the retry on 409), remedy does not
move the stage here: the event is applied when the workflow is suspended at that very
stage, kept until it gets there, or ignored once it is past. Each decision that changes
something is an Event on the workflow (StageResumed, ResumeKept, ResumeDropped).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remedy.domain import audit, push_order
from remedy.domain import workflows as wf
from remedy.domain.agents import format_time
from remedy.domain.audit import Reason
from remedy.domain.remediation import KeptResume
from remedy.domain.stages import Stage, reached
from remedy.handlers.common.resumes import (
    CONFLICT_RETRIES,
    STEP,
    WORKFLOW_RESUME,
    Resumed,
    ResumeNotVerified,
)
from remedy.handlers.common.tasks import TaskStep
from remedy.ports import Conflict, Workflows

log = logging.getLogger("remedy.resumes")


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
