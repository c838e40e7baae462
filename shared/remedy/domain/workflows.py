"""Reading and changing an Argo play workflow object, the way ``argo resume`` does.

``argo resume`` does not just clear ``spec.suspend``: it marks every running Suspend
node ``Succeeded`` with a "Resumed by" message and a ``finishedAt``, then updates the
whole object (retrying on 409). Clearing only the flag leaves a ``suspend: {}`` node
waiting forever. These are pure functions over the workflow's JSON; the Kubernetes
adapter does the update with a resourceVersion precondition.

The contract with the play workflow template (what remedy guarantees when it resumes
for a remediation): ``current-stage`` is ``waiting-pr-created``, ``previous-stage`` is
the stage it was at, annotation ``remedy.dev/epoch`` is the remediation's epoch and
``remedy.dev/resume-reason`` is ``remediation``, ``remedy.dev/head-sha`` is the pushed
head and ``remedy.dev/resumed-heads`` lists the heads it was reset for (newest last).
What the workflow does once resumed (loop back to the quality stage) is the template's
business.

The workflow itself is the record that a push's resume happened, so it is what says a
resume is no longer owed (:func:`not_owed`): each push resets and resumes the workflow
at most once, and once it was resumed for a push, no suspend point it reaches later is
resumed for that push or any push that push contains.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from remedy.domain import push_order
from remedy.domain.agents import parse_time
from remedy.domain.stages import Stage

STAGE_LABEL = "current-stage"
PREVIOUS_STAGE_LABEL = "previous-stage"
TASK_LABEL = "task-id"
TYPE_LABEL = "workflow-type"
PLAY = "play-orchestration"
EPOCH_ANNOTATION = "remedy.dev/epoch"
REASON_ANNOTATION = "remedy.dev/resume-reason"
HEAD_ANNOTATION = "remedy.dev/head-sha"
RESUMED_HEADS_ANNOTATION = "remedy.dev/resumed-heads"
MAX_RESUMED_HEADS = 20
"""Heads a workflow remembers having been reset and resumed for (the newest)."""
RESUMED_BY = "remedy"

Workflow = dict[str, Any]


def labels_of(workflow: Workflow) -> dict[str, str]:
    return dict(workflow.get("metadata", {}).get("labels") or {})


def annotations_of(workflow: Workflow) -> dict[str, str]:
    return dict(workflow.get("metadata", {}).get("annotations") or {})


def stage(workflow: Workflow) -> Stage:
    return Stage.parse(labels_of(workflow).get(STAGE_LABEL))


def epoch_of(workflow: Workflow) -> int:
    try:
        return int(annotations_of(workflow).get(EPOCH_ANNOTATION, "0"))
    except ValueError:
        return 0


def resumed_heads(workflow: Workflow) -> list[str]:
    """The heads remedy reset and resumed the workflow for, oldest first."""
    listed = annotations_of(workflow).get(RESUMED_HEADS_ANNOTATION, "")
    return [head for head in listed.split(",") if head]


def not_owed(
    workflow: Workflow, *, epoch: int, head: str, known: Sequence[push_order.Push]
) -> str | None:
    """Why a remediation resume for ``head`` at ``epoch`` is no longer owed, if it is not.

    It is owed only while nothing newer has happened: not once the workflow was reset
    for a newer push (a larger epoch), nor once it was reset for ``head`` itself (under
    any epoch) or for a head that contains it through the branch's ``known`` chain.
    """
    name = workflow.get("metadata", {}).get("name", "the workflow")
    if epoch_of(workflow) > epoch:
        return f"{name} was already resumed for a newer push (epoch {epoch_of(workflow)})"
    for resumed_head in reversed(resumed_heads(workflow)):
        if head and push_order.contained_in(head, resumed_head, known):
            which = "itself" if resumed_head == head else f"{resumed_head[:12]}, which contains it"
            return f"{name} was already resumed for {head[:12]} ({which}): nothing owed"
    return None


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


def task_of(workflow: Workflow) -> int | None:
    """The task a play workflow belongs to (its ``task-id`` label), if it names one."""
    value = labels_of(workflow).get(TASK_LABEL, "")
    return int(value) if value.isascii() and value.isdigit() else None


def pick(candidates: Sequence[Workflow]) -> Workflow | None:
    """The one of a task's play workflows remedy acts on: the newest unfinished one,
    else the newest (``creationTimestamp``, RFC 3339, compares as text)."""
    unfinished = [item for item in candidates if not finished(item)] or list(candidates)
    if not unfinished:
        return None
    return max(unfinished, key=lambda item: item.get("metadata", {}).get("creationTimestamp", ""))


def by_task(workflows: Sequence[Workflow]) -> dict[int, Workflow]:
    """Each task's workflow (as :func:`pick` chooses) among play workflows of many tasks."""
    grouped: dict[int, list[Workflow]] = {}
    for item in workflows:
        task = task_of(item)
        if task is not None:
            grouped.setdefault(task, []).append(item)
    return {task: chosen for task, items in grouped.items() if (chosen := pick(items))}


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
        entry["finishedAt"] = _not_before(now, entry.get("startedAt"))
        entry["message"] = f"Resumed by: {by}" + (f" ({why})" if why else "")
    return result


def _not_before(now: str, started: object) -> str:
    """``now``, or the node's ``startedAt`` when that is later: a node never finishes
    before it started. ``now`` is taken when the step began (before it waited for the
    task's lock), and the workflow controller's clock is not remedy's; a gate reached
    in between must not read as resumed before it was reached."""
    if isinstance(started, str):
        start, moment = parse_time(started), parse_time(now)
        if start and moment and start > moment:
            return started
    return now


def moved(
    workflow: Workflow, *, target: Stage, epoch_value: int, reason: str, head: str = ""
) -> Workflow:
    """A copy at stage ``target`` (previous stage recorded; epoch, reason and, for a
    push, its head annotated and added to the resumed heads)."""
    result = copy.deepcopy(workflow)
    metadata = result.setdefault("metadata", {})
    workflow_labels = metadata.setdefault("labels", {})
    workflow_labels[PREVIOUS_STAGE_LABEL] = str(stage(workflow))
    workflow_labels[STAGE_LABEL] = str(target)
    workflow_annotations = metadata.setdefault("annotations", {})
    workflow_annotations[EPOCH_ANNOTATION] = str(epoch_value)
    workflow_annotations[REASON_ANNOTATION] = reason
    if head:
        workflow_annotations[HEAD_ANNOTATION] = head
        heads = [h for h in resumed_heads(workflow) if h != head] + [head]
        workflow_annotations[RESUMED_HEADS_ANNOTATION] = ",".join(heads[-MAX_RESUMED_HEADS:])
    return result
