"""The reconciler's kept-resume pass: resumes decided before the workflow got there.

Two kinds are kept in a task's state: a remediation's resume (``kept_resume``, the
workflow was not at a suspend point yet) and stage events that came before their
stage (``kept_stage_resumes``: PR opened, ready-for-qa, approved). Both are applied by
the same appliers the chain uses (:class:`~remedy.handlers.common.resumes.ResumeApplier`,
:class:`~remedy.handlers.common.stage_resumes.StageResumer`), which re-check everything — suspend
point, transition table, epoch, once per cycle — under the task's lock.

Why a readiness check first: an applier that finds the workflow still not there keeps
the resume again *and logs that in the history*; asked every few seconds it would
flood the history and push out what matters. So a kept resume is handed to its applier
only once the workflow could take it (at a suspend point, or at/past the stage) or
could refuse it for good (finished, already at a newer epoch); otherwise it waits.

A remediation resume kept for an older epoch than the task's current one is left to
the newer remediation, whose own resume replaces it. Each applied resume is announced
as ``workflow.resumed`` with ``deferred`` set, for observers (nothing consumes it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import workflows as wf
from remedy.domain.remediation import KeptResume, RemediationState
from remedy.domain.stages import Stage, UnknownStage, reached
from remedy.events import tracing
from remedy.handlers.common.resumed_events import resumed_event
from remedy.handlers.common.resumes import ResumeApplier, Resumed
from remedy.handlers.common.stage_resumes import StageResumer
from remedy.handlers.common.tasks import TaskStep
from remedy.ports import Workflows

PRODUCER = "reconciler"
NO_HEAD = "0" * 40
"""What workflow-resume itself reports as the head when the event named none."""

Workflow = dict[str, Any]


@dataclass
class Applied:
    notes: list[str] = field(default_factory=list)
    events: list[CloudEvent] = field(default_factory=list)


@dataclass(frozen=True)
class KeptResumes:
    applier: ResumeApplier
    stages: StageResumer
    workflows: Workflows

    def ready(self, state: RemediationState) -> bool:
        """A lock-free look: could any kept resume of ``state`` be applied (or refused)?"""
        if not _remediation_candidate(state) and not state.kept_stage_resumes:
            return False
        workflow = self.workflows.find(state.task_id)
        return bool(_ready_remediation(state, workflow) or _ready_stages(state, workflow))

    def apply(self, task: TaskStep, *, now: datetime) -> Applied:
        """Apply every kept resume whose workflow is ready for it; the rest keep waiting."""
        state, applied = task.state, Applied()
        workflow = self.workflows.find(state.task_id)
        kept = _ready_remediation(state, workflow)
        if kept is not None:
            result = self.applier.apply(
                task,
                epoch=kept.epoch,
                head=kept.head or _head_of(state, kept.epoch),
                delivery=kept.delivery,
                target=_stage(kept),
                reason=kept.reason,
                now=now,
            )
            self._note(task, kept, result, applied, epoch=kept.epoch)
            workflow = self.workflows.find(state.task_id) if result.applied else workflow
        for stage_kept in _ready_stages(state, workflow):
            result = self.stages.apply(
                task,
                stage=_stage(stage_kept),
                delivery=stage_kept.delivery,
                reason=stage_kept.reason,
                now=now,
            )
            self._note(task, stage_kept, result, applied, epoch=max(state.epoch, 1))
        return applied

    def _note(
        self, task: TaskStep, kept: KeptResume, result: Resumed, into: Applied, *, epoch: int
    ) -> None:
        into.notes.append(result.note)
        if result.applied and result.workflow is not None and epoch >= 1:
            into.events.append(_resumed_event(task.state, kept, result, epoch=epoch))


def _remediation_candidate(state: RemediationState) -> KeptResume | None:
    kept = state.kept_resume
    if kept is None or (kept.reason == "remediation" and kept.epoch < state.epoch):
        return None
    return kept


def _ready_remediation(state: RemediationState, workflow: Workflow | None) -> KeptResume | None:
    """The kept remediation resume, when the workflow can take it or it is no longer owed
    (the applier then drops it with that reason)."""
    kept = _remediation_candidate(state)
    if kept is None or workflow is None:
        return None
    head = kept.head or _head_of(state, kept.epoch)
    if (
        wf.suspended(workflow)
        or wf.finished(workflow)
        or wf.not_owed(workflow, epoch=kept.epoch, head=head, known=state.pushes)
    ):
        return kept
    return None


def _head_of(state: RemediationState, epoch: int) -> str:
    return next((h.sha for h in state.heads if h.epoch == epoch), "")


def _ready_stages(state: RemediationState, workflow: Workflow | None) -> list[KeptResume]:
    if workflow is None:
        return []
    if wf.finished(workflow):
        return list(state.kept_stage_resumes)
    try:
        current = wf.stage(workflow)
    except UnknownStage:
        return []  # the applier could only fail on it; leave it for a person to see
    ready = []
    for kept in state.kept_stage_resumes:
        try:
            stage = _stage(kept)
        except UnknownStage:
            continue
        if current is not stage:
            if reached(current, stage):
                ready.append(kept)  # passed: the applier drops it with a reason
            continue
        waiting = [n for n in wf.active_suspend_nodes(workflow) if n.stage in (None, str(stage))]
        if waiting:
            ready.append(kept)
    return ready


def _stage(kept: KeptResume) -> Stage:
    try:
        return Stage(kept.target_stage)
    except ValueError:
        raise UnknownStage(f"a kept resume targets {kept.target_stage!r}") from None


def _resumed_event(
    state: RemediationState, kept: KeptResume, result: Resumed, *, epoch: int
) -> CloudEvent:
    head = next((h.sha for h in state.heads if h.epoch == kept.epoch), None)
    return resumed_event(
        result,
        task_id=state.task_id,
        repository=state.repository,
        pr_number=state.pr_number,
        head_sha=head or (state.heads[-1].sha if state.heads else NO_HEAD),
        delivery=kept.delivery,
        epoch=epoch,
        deferred=True,
        producer=PRODUCER,
        traceparent=tracing.start(kept.delivery),
    )
