"""The play template's main DAG, as the workflow simulator follows it.

``../shared/reference/cto-play-workflow-template.yaml`` runs, between two suspend
points, one *segment*: an agent's CodeRun (``agent-coderun``: create it, wait for
``status.phase`` Succeeded or Failed), a stage update (``update-workflow-stage``:
``current-stage`` and ``previous-stage`` labels) and a ``suspend-for-event`` node:

==========================  ==============================================================
running from stage          segment
==========================  ==============================================================
``pending``                 implementation-cycle (Rex) → ``waiting-pr-created``, no suspend
``waiting-pr-created``      quality-work (Cleo) → update-to-waiting-qa → wait-ready-for-qa
``waiting-ready-for-qa``    testing-work (Tess) → update-to-waiting-approval → wait-pr-approved
``waiting-pr-approved``     wait-pr-merged (stage ``waiting-pr-merged``)
``waiting-pr-merged``       complete-task: ``completed``, the workflow Succeeded
==========================  ==============================================================

A remediation resume sets ``waiting-pr-created``, so the workflow loops back to the
quality stage. Where the simulator differs from the template, and why:

- each suspend point sets ``current-stage`` to its ``stage-name`` (the template's
  suspend-for-event puts that label on its pod; remedy's stage table has
  ``waiting-pr-merged``), and the implementation cycle moves ``pending`` to
  ``waiting-pr-created`` (the template's PR wait ends there);
- the stage update and the new Suspend node are one write, not two steps;
- an agent's run *cancelled* (deleted, being deleted, or phase ``Cancelled``) before it
  finished: Argo would retry its wait on the vanished CodeRun and then fail the
  workflow, which nobody could resume. remedy cancels a run because it is about to
  resume the workflow for a newer push, so the simulator abandons the step for that run
  instead: the task node fails ("cancelled"), the stage stays, and the workflow *parks*
  at a Suspend node for its current stage (``wait-pr-created`` / ``wait-ready-for-qa``).
  No gate is ever passed without its agent's success; remedy's kept resume applies at
  the park and the loop starts again on the new head. A run that *failed* fails the
  workflow, as in Argo.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remedy.domain import agents
from remedy.domain import workflows as wf
from remedy.domain.stages import Stage
from remedy.local.emulators.agents import schedule

SIMULATE_LABEL = agents.SIMULATE_LABEL
SELECTOR = f"{SIMULATE_LABEL}=true"
NODE_LABEL = "remedy.dev/workflow-node"
"""On a CodeRun: the numeric suffix of the task node it runs for."""
WORKFLOW_NAMESPACE = "remedy.dev/workflow-namespace"
WORKFLOW_UID = "remedy.dev/workflow-uid"
RUN_SELECTOR = f"{SELECTOR},{NODE_LABEL}"
AGENT_TEMPLATE = "agent-coderun"
RUN_OUTPUT = "coderun-name"
AGENT_SETTINGS = (
    schedule.PENDING_SECONDS,
    schedule.RUN_SECONDS,
    schedule.OUTCOME,
    schedule.ACK_DELAY,
    schedule.ACK_SECONDS,
    schedule.CANCEL,
)
"""The agent simulator's per-run settings, copied from the workflow onto its CodeRuns."""
DEFAULTS = {
    "implementation-agent": "5DLabs-Rex",
    "quality-agent": "5DLabs-Cleo",
    "testing-agent": "5DLabs-Tess",
    "repository": "5dlabs/cto-play-test",
    "service": "play-test",
    "model": "claude-3-5-sonnet-20241022",
}
"""The template's workflow parameters and their defaults."""

Workflow = dict[str, Any]


@dataclass(frozen=True)
class Wait:
    """A ``suspend-for-event`` node: its task name, event type and stage name."""

    task: str
    event: str
    stage: Stage


@dataclass(frozen=True)
class Segment:
    source: Stage
    target: Stage
    agent_task: str | None = None  # the DAG task running the agent ("quality-work")
    agent_parameter: str = ""  # the workflow parameter naming it ("quality-agent")
    agent_stage: str = ""  # the CodeRun's workflow-stage label ("quality")
    update_task: str | None = None  # the DAG task moving the stage
    wait: Wait | None = None  # the suspend point reached; None: none (or the end)
    park: Wait | None = None  # where the workflow waits when the agent's run is cancelled


_PR_CREATED = Wait("wait-pr-created", "pr-created", Stage.WAITING_PR_CREATED)
_READY_FOR_QA = Wait("wait-ready-for-qa", "ready-for-qa", Stage.WAITING_READY_FOR_QA)
SEGMENTS = {
    segment.source: segment
    for segment in (
        Segment(
            Stage.PENDING,
            Stage.WAITING_PR_CREATED,
            "implementation-cycle",
            "implementation-agent",
            "implementation",
            park=Wait("wait-implementation", "implementation", Stage.PENDING),
        ),
        Segment(
            Stage.WAITING_PR_CREATED,
            Stage.WAITING_READY_FOR_QA,
            "quality-work",
            "quality-agent",
            "quality",
            "update-to-waiting-qa",
            _READY_FOR_QA,
            park=_PR_CREATED,
        ),
        Segment(
            Stage.WAITING_READY_FOR_QA,
            Stage.WAITING_PR_APPROVED,
            "testing-work",
            "testing-agent",
            "testing",
            "update-to-waiting-approval",
            Wait("wait-pr-approved", "pr-approved", Stage.WAITING_PR_APPROVED),
            park=_READY_FOR_QA,
        ),
        Segment(
            Stage.WAITING_PR_APPROVED,
            Stage.WAITING_PR_MERGED,
            wait=Wait("wait-pr-merged", "pr-merged", Stage.WAITING_PR_MERGED),
        ),
        Segment(Stage.WAITING_PR_MERGED, Stage.COMPLETED, update_task="complete-task"),
    )
}
BY_AGENT_STAGE = {s.agent_stage: s for s in SEGMENTS.values() if s.agent_stage}


def simulated(obj: Mapping[str, Any]) -> bool:
    return ((obj.get("metadata") or {}).get("labels") or {}).get(SIMULATE_LABEL) == "true"


def parameters(workflow: Workflow) -> dict[str, str]:
    """The workflow's parameters (``spec.arguments``), the template's defaults beneath."""
    given = {
        str(p.get("name")): str(p.get("value") or "")
        for p in ((workflow.get("spec") or {}).get("arguments") or {}).get("parameters") or []
    }
    return DEFAULTS | {name: value for name, value in given.items() if value}


def task_id(workflow: Workflow) -> str:
    return wf.labels_of(workflow).get(wf.TASK_LABEL) or parameters(workflow).get("task-id", "")
