"""Helpers for the simulator's tests: CodeRun manifests and the phases a run went through."""

from __future__ import annotations

from typing import Any

from remedy.local.emulators.kube import KubeEmulator

CODERUN = ("agents.platform/v1", "CodeRun")


def run(
    name: str, *, simulate: bool = True, namespace: str = "default", **annotations: str
) -> dict[str, Any]:
    labels = {"task-id": "3", "github-app": "5DLabs-Cleo"}
    if simulate:
        labels["remedy.dev/simulate"] = "true"
    return {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": labels,
            "annotations": annotations,
        },
        "spec": {
            "taskId": 3,
            "service": "svc",
            "repositoryUrl": "https://github.com/5dlabs/demo",
            "docsRepositoryUrl": "https://github.com/5dlabs/docs",
            "workingDirectory": ".",
            "model": "claude-sonnet",
            "githubApp": "5DLabs-Cleo",
        },
    }


def phase(kube: KubeEmulator, name: str, namespace: str = "default") -> str:
    return str((kube.get(*CODERUN, name, namespace).get("status") or {}).get("phase") or "")


def phases_seen(kube: KubeEmulator, name: str, since: int) -> list[str]:
    """The distinct phases the run went through, from the emulator's event log."""
    seen: list[str] = []
    for event in kube.store.events_after(since, ("agents.platform", "coderuns")):
        if event.stored.name != name:
            continue
        current = (event.stored.obj.get("status") or {}).get("phase")
        if current and (not seen or seen[-1] != current):
            seen.append(current)
    return seen
