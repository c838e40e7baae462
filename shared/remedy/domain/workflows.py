"""Reading and changing an Argo play workflow object, the way ``argo resume`` does.

``argo resume`` does not just clear ``spec.suspend``: it marks every running Suspend
node ``Succeeded`` with a "Resumed by" message and a ``finishedAt``, then updates the
whole object (retrying on 409). Clearing only the flag leaves a ``suspend: {}`` node
waiting forever. These are pure functions over the workflow's JSON; the Kubernetes
adapter does the update with a resourceVersion precondition.

The contract with the play workflow template (what remedy guarantees when it resumes
for a remediation): ``current-stage`` is ``waiting-pr-created``, ``previous-stage`` is
the stage it was at, annotation ``remedy.dev/epoch`` is the remediation's epoch and
``remedy.dev/resume-reason`` is ``remediation``. What the workflow does once resumed
(loop back to the quality stage) is the template's business.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from remedy.domain.stages import Stage

STAGE_LABEL = "current-stage"
PREVIOUS_STAGE_LABEL = "previous-stage"
TASK_LABEL = "task-id"
TYPE_LABEL = "workflow-type"
PLAY = "play-orchestration"
EPOCH_ANNOTATION = "remedy.dev/epoch"
REASON_ANNOTATION = "remedy.dev/resume-reason"
RESUMED_BY = "remedy"

Workflow = dict[str, Any]


def labels_of(workflow: Workflow) -> dict[str, str]:
    return dict(workflow.get("metadata", {}).get("labels") or {})


def annotations_of(workflow: Workflow) -> dict[str, str]:
    return dict(workflow.get("metadata", {}).get("annotations") or {})


def stage(workflow: Workflow) -> Stage:
    return Stage.parse(labels_of(workflow).get(STAGE_LABEL))


def epoch(workflow: Workflow) -> int:
    try:
        return int(annotations_of(workflow).get(EPOCH_ANNOTATION, "0"))
    except ValueError:
        return 0


@dataclass(frozen=True)
class SuspendNode:
    node_id: str
    display_name: str
    stage: str | None
    """The ``stage-name`` input of the play template's suspend-for-event, when present."""


def active_suspend_nodes(workflow: Workflow) -> list[SuspendNode]:
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    found = []
    for node_id, node in sorted(nodes.items()):
        if node.get("type") == "Suspend" and node.get("phase") == "Running":
            params = (node.get("inputs") or {}).get("parameters") or []
            stage_name = next(
                (p.get("value") for p in params if p.get("name") == "stage-name"), None
            )
            found.append(SuspendNode(node_id, node.get("displayName", node_id), stage_name))
    return found


def finished(workflow: Workflow) -> bool:
    phase = (workflow.get("status") or {}).get("phase")
    return phase in {"Succeeded", "Failed", "Error"}


def suspended(workflow: Workflow) -> bool:
    """At a suspend point: a running Suspend node, or the whole workflow suspended."""
    return bool(active_suspend_nodes(workflow)) or bool((workflow.get("spec") or {}).get("suspend"))


def resumed(workflow: Workflow, *, now: str, by: str = RESUMED_BY, why: str = "") -> Workflow:
    """A copy resumed as ``argo resume`` does it; ``why`` (e.g. the epoch) is appended to
    the node message so each resume can be traced to its cause."""
    result = copy.deepcopy(workflow)
    spec = result.setdefault("spec", {})
    spec.pop("suspend", None)
    nodes = (result.get("status") or {}).get("nodes") or {}
    for node in active_suspend_nodes(result):
        entry = nodes[node.node_id]
        entry["phase"] = "Succeeded"
        entry["finishedAt"] = now
        entry["message"] = f"Resumed by: {by}" + (f" ({why})" if why else "")
    return result


def moved(workflow: Workflow, *, target: Stage, epoch_value: int, reason: str) -> Workflow:
    """A copy at stage ``target`` (previous stage recorded, epoch and reason annotated)."""
    result = copy.deepcopy(workflow)
    metadata = result.setdefault("metadata", {})
    workflow_labels = metadata.setdefault("labels", {})
    workflow_labels[PREVIOUS_STAGE_LABEL] = str(stage(workflow))
    workflow_labels[STAGE_LABEL] = str(target)
    workflow_annotations = metadata.setdefault("annotations", {})
    workflow_annotations[EPOCH_ANNOTATION] = str(epoch_value)
    workflow_annotations[REASON_ANNOTATION] = reason
    return result
