"""Seeding many tasks at once for the task list: remediation states written as the
Kubernetes adapter writes them, and play workflows as Argo leaves them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import Cancellation, Event, Head, RemediationState
from tests.chain import seed

AT = "2030-01-02T03:04:05.000000Z"


def head(epoch: int, sha: str, *, before: str = "0" * 40, pushed_at: str = AT) -> Head:
    return Head(sha=sha, before=before, epoch=epoch, delivery=f"d-{epoch}", pushed_at=pushed_at)


def cancellation(name: str, status: str, *, epoch: int, **fields: Any) -> Cancellation:
    return Cancellation.model_validate(
        {
            "namespace": seed.AGENT_NS,
            "name": name,
            "uid": f"uid-{name}",
            "agent": "5DLabs-Cleo",
            "epoch": epoch,
            "for_head": "f" * 40,
            "requested_at": AT,
            "deadline": AT,
            "status": status,
            **fields,
        }
    )


def event(at: str, *, epoch: int, step: str = "agent-cancel", outcome: str = "done") -> Event:
    return Event(at=at, epoch=epoch, delivery=f"d-{epoch}", step=step, outcome=outcome)


def state(
    task_id: int,
    *,
    repository: str = seed.REPO,
    epoch: int = 0,
    heads: Iterable[Head] = (),
    cancellations: Iterable[Cancellation] = (),
    history: Iterable[Event] = (),
) -> RemediationState:
    return RemediationState(
        task_id=task_id,
        repository=repository,
        epoch=epoch,
        heads=list(heads),
        cancellations={c.key: c for c in cancellations},
        history=list(history),
    )


def save(api: client.ApiClient, *states: RemediationState) -> None:
    store = KubeRemediationStates(api, namespace=seed.STATE_NS)
    for each in states:
        store.save(each, resource_version=None)


def workflow(
    custom: client.CustomObjectsApi,
    *,
    task: int,
    stage: str | None,
    name: str | None = None,
    phase: str = "Running",
) -> None:
    """A play workflow of ``task`` at ``stage`` (no ``current-stage`` label when None)."""
    labels = {"workflow-type": "play-orchestration", "task-id": str(task)}
    if stage is not None:
        labels["current-stage"] = stage
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name or f"play-task-{task}", "labels": labels},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": []}}]},
        "status": {"phase": phase, "nodes": {}},
    }
    custom.create_namespaced_custom_object(*seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], body)
