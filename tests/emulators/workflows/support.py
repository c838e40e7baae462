"""Helpers for the workflow simulator's tests: play workflows, remedy-style resumes, reads.

Workflows are seeded as ``remedy up --demo`` seeds its own (a root DAG node and, when
suspended, a running ``suspend-for-event`` node); resumes are done as remedy does them
(``remedy.domain.workflows``: move for a remediation, then mark the running Suspend
nodes Succeeded) and written over HTTP with the resourceVersion.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kubernetes import client

from remedy.domain import agents
from remedy.domain import workflows as wf
from remedy.domain.stages import Stage
from remedy.local.emulators.kube import KubeEmulator

ARGO_NS, AGENT_NS = "argo", "agent-platform"
DELAY_S = 0.2
WORKFLOW = ("argoproj.io/v1alpha1", "Workflow")
CODERUN = ("agents.platform/v1", "CodeRun")
WORKFLOWS = ("argoproj.io", "v1alpha1", "workflows")
CODERUNS = ("agents.platform", "v1", "coderuns")


def play_workflow(
    task: int = 7,
    *,
    stage: str = "waiting-ready-for-qa",
    suspended: bool = True,
    simulate: bool = True,
    annotations: dict[str, str] | None = None,
    namespace: str = ARGO_NS,
) -> dict[str, Any]:
    name = f"play-task-{task}"
    labels = {"workflow-type": "play-orchestration", "task-id": str(task), "current-stage": stage}
    if simulate:
        labels["remedy.dev/simulate"] = "true"
    nodes: dict[str, Any] = {
        name: {"id": name, "type": "DAG", "phase": "Running", "displayName": name}
    }
    if suspended:
        nodes[f"{name}-1"] = {
            "id": f"{name}-1",
            "type": "Suspend",
            "phase": "Running",
            "displayName": "wait",
            "templateName": "suspend-for-event",
            "inputs": {"parameters": [{"name": "stage-name", "value": stage}]},
        }
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations or {},
        },
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": []}}]},
        "status": {"phase": "Running", "nodes": nodes},
    }


def resumed(
    obj: dict[str, Any],
    *,
    remediation: bool = False,
    head: str = "",
    epoch: int = 1,
    extra: dict[str, str] | None = None,
) -> dict[str, Any]:
    """``obj`` resumed as remedy does it (a remediation resets to ``waiting-pr-created``)."""
    if remediation:
        obj = wf.moved(
            obj, target=Stage.WAITING_PR_CREATED, epoch_value=epoch, reason="remediation"
        )
    annotations = obj["metadata"].setdefault("annotations", {})
    if head:
        annotations[agents.HEAD_SHA] = head
    annotations.update(extra or {})
    return wf.resumed(obj, now=agents.format_time(datetime.now(UTC)), why=f"epoch {epoch}")


def resume(custom: client.CustomObjectsApi, name: str, **how: Any) -> None:
    """Resume over HTTP with the resourceVersion, re-reading on 409 (``argo resume``)."""
    for _ in range(5):
        obj = custom.get_namespaced_custom_object(*WORKFLOWS[:2], ARGO_NS, WORKFLOWS[2], name)
        try:
            custom.replace_namespaced_custom_object(
                *WORKFLOWS[:2], ARGO_NS, WORKFLOWS[2], name, resumed(obj, **how)
            )
            return
        except client.ApiException as error:
            if error.status != 409:
                raise
    raise AssertionError(f"{name} kept changing under the resume")


def workflow(kube: KubeEmulator, task: int = 7) -> dict[str, Any]:
    return kube.get(*WORKFLOW, f"play-task-{task}", ARGO_NS)


def stage(obj: dict[str, Any]) -> str:
    return str(obj["metadata"]["labels"].get("current-stage", ""))


def waiting_at(obj: dict[str, Any]) -> list[str | None]:
    """The stages of the running Suspend nodes."""
    return [node.stage for node in wf.active_suspend_nodes(obj)]


def suspended_at(kube: KubeEmulator, wanted: str, task: int = 7) -> dict[str, Any] | None:
    """The workflow, once it waits at a Suspend node for ``wanted`` labelled so."""
    obj = workflow(kube, task)
    return obj if stage(obj) == wanted and waiting_at(obj) == [wanted] else None


def nodes_named(obj: dict[str, Any], display_name: str) -> list[dict[str, Any]]:
    nodes = (obj.get("status") or {}).get("nodes") or {}
    return [node for node in nodes.values() if node.get("displayName") == display_name]


def runs(kube: KubeEmulator, task: int = 7, *, step: str | None = None) -> list[dict[str, Any]]:
    """The CodeRuns made for the task's workflow (for one ``workflow-stage``, if given)."""
    found = []
    for run in kube.list(*CODERUN, AGENT_NS):
        labels = run["metadata"].get("labels") or {}
        if labels.get("workflow-name") == f"play-task-{task}" and step in (
            None,
            labels.get("workflow-stage"),
        ):
            found.append(run)
    return found


def runs_ever_created(kube: KubeEmulator, since: int) -> list[str]:
    """Names of every CodeRun created since ``since`` (from the emulator's event log)."""
    return [
        event.stored.name
        for event in kube.store.events_after(since, ("agents.platform", "coderuns"))
        if event.type == "ADDED"
    ]


def run_phase(run: dict[str, Any]) -> str:
    return str((run.get("status") or {}).get("phase") or "")
