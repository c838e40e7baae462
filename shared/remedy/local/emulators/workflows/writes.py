"""The objects the workflow simulator writes: the agents' CodeRuns and workflow copies.

Pure functions: each returns a changed copy of the workflow (or a CodeRun manifest);
the simulator writes it through the API with the resourceVersion it read. Nodes look
like Argo's (``<workflow>-<number>`` ids under the root DAG node, ``displayName`` the
template's task name, ``templateName``, ``phase``, ``startedAt``/``finishedAt``), and a
CodeRun carries the labels the template's create-coderun-resource sets.
"""

from __future__ import annotations

import copy
import secrets
from collections.abc import Callable
from typing import Any

from remedy.domain import agents
from remedy.domain import workflows as wf
from remedy.domain.stages import Stage
from remedy.local.emulators.workflows.template import (
    AGENT_SETTINGS,
    AGENT_TEMPLATE,
    NODE_LABEL,
    RUN_OUTPUT,
    SIMULATE_LABEL,
    WORKFLOW_NAMESPACE,
    WORKFLOW_UID,
    Segment,
    Wait,
    Workflow,
    parameters,
    task_id,
)


def node_suffix(node_id: str) -> str:
    return node_id.rsplit("-", 1)[-1]


def new_node_id(workflow: Workflow) -> str:
    """A node id not in use (Argo's are ``<workflow>-<number>``)."""
    nodes = (workflow.get("status") or {}).get("nodes") or {}
    while True:
        candidate = f"{workflow['metadata']['name']}-{secrets.randbelow(10**10):010d}"
        if candidate not in nodes:
            return candidate


def coderun(
    workflow: Workflow, segment: Segment, *, node_id: str, namespace: str
) -> dict[str, Any]:
    """The CodeRun the template's create-coderun-resource makes for this step."""
    metadata = workflow["metadata"]
    name, task = metadata["name"], task_id(workflow)
    params = parameters(workflow)
    agent = params[segment.agent_parameter]
    annotations = {k: v for k, v in wf.annotations_of(workflow).items() if k in AGENT_SETTINGS}
    head = wf.annotations_of(workflow).get(agents.HEAD_SHA)
    if head:
        annotations[agents.HEAD_SHA] = head
    annotations |= {WORKFLOW_NAMESPACE: metadata["namespace"], WORKFLOW_UID: metadata["uid"]}
    run_metadata: dict[str, Any] = {
        "generateName": f"coderun-{segment.agent_stage}-task{task}-",
        "namespace": namespace,
        "labels": {
            "task-id": task,
            "github-app": agent,
            "workflow-name": name,
            "workflow-stage": segment.agent_stage,
            "workflow-type": wf.PLAY,
            SIMULATE_LABEL: "true",
            NODE_LABEL: node_suffix(node_id),
        },
        "annotations": annotations,
    }
    if namespace == metadata["namespace"]:  # setOwnerReference: never across namespaces
        run_metadata["ownerReferences"] = [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Workflow",
                "name": name,
                "uid": metadata["uid"],
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
    return {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": run_metadata,
        "spec": {
            "taskId": int(task) if task.isdigit() else 0,
            "service": params["service"],
            "repositoryUrl": params["repository"],
            "docsRepositoryUrl": "https://github.com/5dlabs/cto-play-test",
            "docsProjectDirectory": "docs",
            "workingDirectory": ".",
            "githubApp": agent,
            "model": params["model"],
            "continueSession": True,
            "overwriteMemory": False,
            "docsBranch": "main",
            "contextVersion": 1,
            "env": {
                "QA_READY": "true" if segment.agent_stage == "testing" else "false",
                "WORKFLOW_STAGE": segment.agent_stage,
                "WORKFLOW_NAME": name,
                "SERVICE_NAME": params["service"],
            },
        },
    }


def _nodes(workflow: Workflow) -> dict[str, Any]:
    status = workflow.setdefault("status", {})
    status.setdefault("phase", "Running")
    nodes: dict[str, Any] = status.setdefault("nodes", {})
    return nodes


def _add_node(workflow: Workflow, node: dict[str, Any]) -> None:
    """Add ``node`` under the root DAG node (the one named like the workflow), if any."""
    name = workflow["metadata"]["name"]
    nodes = _nodes(workflow)
    node |= {"name": f"{name}.{node['displayName']}", "boundaryID": name}
    nodes[node["id"]] = node
    if name in nodes:
        nodes[name].setdefault("children", []).append(node["id"])


def started(workflow: Workflow, segment: Segment, *, node_id: str, now: str) -> Workflow:
    """A copy with the segment's agent task running (its node; no CodeRun yet)."""
    assert segment.agent_task is not None
    result = copy.deepcopy(workflow)
    agent = parameters(workflow)[segment.agent_parameter]
    inputs = {"github-app": agent, "task-id": task_id(workflow), "stage": segment.agent_stage}
    _add_node(
        result,
        {
            "id": node_id,
            "displayName": segment.agent_task,
            "type": "Steps",
            "templateName": AGENT_TEMPLATE,
            "phase": "Running",
            "startedAt": now,
            "inputs": {"parameters": [{"name": k, "value": v} for k, v in inputs.items()]},
        },
    )
    return result


def recorded(workflow: Workflow, *, node_id: str, run_name: str) -> Workflow:
    """A copy whose task node names its CodeRun (as resolve-coderun-name outputs it)."""
    result = copy.deepcopy(workflow)
    node = _nodes(result)[node_id]
    node["outputs"] = {"parameters": [{"name": RUN_OUTPUT, "value": run_name}]}
    return result


def _end_node(workflow: Workflow, node_id: str | None, phase: str, now: str, message: str) -> None:
    if node_id is None or node_id not in _nodes(workflow):
        return
    node = _nodes(workflow)[node_id]
    node |= {"phase": phase, "finishedAt": now}
    if message:
        node["message"] = message


def _suspend(workflow: Workflow, wait: Wait, *, node_id: str, now: str) -> None:
    _add_node(
        workflow,
        {
            "id": node_id,
            "displayName": wait.task,
            "type": "Suspend",
            "templateName": "suspend-for-event",
            "phase": "Running",
            "startedAt": now,
            "inputs": {
                "parameters": [
                    {"name": "event-type", "value": wait.event},
                    {"name": "stage-name", "value": str(wait.stage)},
                ]
            },
        },
    )


def _set_stage(workflow: Workflow, target: Stage) -> None:
    labels = workflow["metadata"].setdefault("labels", {})
    labels[wf.PREVIOUS_STAGE_LABEL] = labels.get(wf.STAGE_LABEL) or str(Stage.PENDING)
    labels[wf.STAGE_LABEL] = str(target)


def advanced(
    workflow: Workflow,
    segment: Segment,
    *,
    node_id: str | None,
    now: str,
    new_id: Callable[[Workflow], str] = new_node_id,
) -> Workflow:
    """A copy past the segment: its task node Succeeded, the stage moved, then suspended
    at the segment's wait — or, at the end, the workflow Succeeded."""
    result = copy.deepcopy(workflow)
    _end_node(result, node_id, "Succeeded", now, "")
    if segment.update_task is not None:
        update_id = new_id(result)
        template = (
            "task-completion" if segment.target is Stage.COMPLETED else "update-workflow-stage"
        )
        _add_node(
            result,
            {
                "id": update_id,
                "displayName": segment.update_task,
                "type": "Pod",
                "templateName": template,
                "phase": "Succeeded",
                "startedAt": now,
                "finishedAt": now,
            },
        )
    _set_stage(result, segment.target)
    if segment.wait is not None:
        _suspend(result, segment.wait, node_id=new_id(result), now=now)
    if segment.target is Stage.COMPLETED:
        _finish(result, "Succeeded", now, "")
    return result


def _finish(workflow: Workflow, phase: str, now: str, message: str) -> None:
    status = workflow.setdefault("status", {})
    status |= {"phase": phase, "finishedAt": now}
    if message:
        status["message"] = message
    _end_node(workflow, workflow["metadata"]["name"], phase, now, "")


def failed(workflow: Workflow, *, node_id: str, message: str, now: str) -> Workflow:
    """A copy failed as Argo fails it when a task's failureCondition holds."""
    result = copy.deepcopy(workflow)
    _end_node(result, node_id, "Failed", now, message)
    _finish(result, "Failed", now, message)
    return result


def parked(
    workflow: Workflow,
    segment: Segment,
    *,
    node_id: str,
    message: str,
    now: str,
    new_id: Callable[[Workflow], str] = new_node_id,
) -> Workflow:
    """A copy with the step abandoned (its node Failed) and a Suspend node at the stage."""
    assert segment.park is not None
    result = copy.deepcopy(workflow)
    _end_node(result, node_id, "Failed", now, message)
    _suspend(result, segment.park, node_id=new_id(result), now=now)
    return result
