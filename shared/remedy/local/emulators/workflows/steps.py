"""What the workflow simulator does next, decided from the objects alone.

Progress is recorded in the workflow's own ``status.nodes``, as Argo's controller does:
a running task node (``templateName: agent-coderun``) says which agent step is under
way and, once its CodeRun exists, that run's name (output ``coderun-name``, as the
template's resolve-coderun-name outputs it). So the next step follows from the
workflow and its runs, and a restarted simulator picks up where it was: a task node
without a run name means "create the run, unless one was made already", one whose run
has ended means "move on", and none at all means "start the stage's segment".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from remedy.domain import workflows as wf
from remedy.domain.stages import UnknownStage
from remedy.local.emulators.workflows.template import (
    AGENT_TEMPLATE,
    BY_AGENT_STAGE,
    RUN_OUTPUT,
    SEGMENTS,
    Segment,
    Workflow,
    simulated,
)

RunOf = Callable[[str], Mapping[str, Any] | None]
STOPPED = frozenset({"Cancelled", "Canceled", "Stopped"})
"""Phases of a run whose agent stopped when asked to: the step is abandoned."""


@dataclass(frozen=True)
class Start:
    """Begin the segment: add its task node (with no agent: move on at once)."""

    segment: Segment
    delayed = True

    @property
    def signature(self) -> str:
        return f"start {self.segment.source}"


@dataclass(frozen=True)
class Create:
    """Create (or find, after a restart) the task node's CodeRun and record its name."""

    segment: Segment
    node_id: str
    delayed = False

    @property
    def signature(self) -> str:
        return f"create {self.node_id}"


@dataclass(frozen=True)
class Finish:
    """The node's run ended: ``Succeeded`` moves on, ``Failed`` fails the workflow,
    ``Cancelled`` parks it; ``Gone`` (not seen) is confirmed before it counts as cancelled."""

    segment: Segment
    node_id: str
    run_name: str
    outcome: str
    delayed = True

    @property
    def signature(self) -> str:
        return f"finish {self.node_id} {self.outcome}"


Action = Start | Create | Finish


def running_task(workflow: Workflow) -> dict[str, Any] | None:
    """The agent step under way: a running task node the simulator added."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    for node in nodes.values():
        if node.get("templateName") == AGENT_TEMPLATE and node.get("phase") == "Running":
            return dict(node)
    return None


def _parameter(section: Mapping[str, Any] | None, name: str) -> str:
    for parameter in (section or {}).get("parameters") or []:
        if parameter.get("name") == name:
            return str(parameter.get("value") or "")
    return ""


def next_action(workflow: Workflow, run_of: RunOf) -> Action | None:
    """The simulator's next step for ``workflow``, or None when it has nothing to do.

    Nothing while the workflow is not marked for simulation, is being deleted, has
    finished or waits at a suspend point; ``run_of`` finds a CodeRun by name.
    """
    if not simulated(workflow) or (workflow.get("metadata") or {}).get("deletionTimestamp"):
        return None
    if wf.finished(workflow) or wf.suspended(workflow):
        return None
    node = running_task(workflow)
    if node is None:
        try:
            segment = SEGMENTS.get(wf.stage(workflow))
        except UnknownStage:
            return None
        return Start(segment) if segment is not None else None
    segment = BY_AGENT_STAGE.get(_parameter(node.get("inputs"), "stage"))
    if segment is None:
        return None
    run_name = _parameter(node.get("outputs"), RUN_OUTPUT)
    if not run_name:
        return Create(segment, node["id"])
    run = run_of(run_name)
    if run is None:
        return Finish(segment, node["id"], run_name, "Gone")
    phase = str((run.get("status") or {}).get("phase") or "")
    if phase in ("Succeeded", "Failed"):  # the template's success and failure conditions
        return Finish(segment, node["id"], run_name, phase)
    if phase in STOPPED or (run.get("metadata") or {}).get("deletionTimestamp"):
        return Finish(segment, node["id"], run_name, "Cancelled")
    return None
