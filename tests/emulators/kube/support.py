"""Helpers shared by the emulator's tests: manifests, raw HTTP, kubectl.

``coderun()`` builds a valid CodeRun; ``reference()`` and ``new_event()`` an
``events.k8s.io/v1`` Event about a stored object, as remedy records one (with
``micro_time()``); ``Http`` sends raw requests (for headers and Tables the typed
clients hide); ``Kubectl`` runs the real kubectl (found by
:mod:`tests.support.kubectl`) with the emulator's kubeconfig and a private discovery
cache. ``POLL_S`` is how often these tests poll the in-process emulator (with
:func:`tests.support.waiting.eventually`).
"""

from __future__ import annotations

import datetime
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support.kubectl import kubectl_binary

GROUP, VERSION, PLURAL = "agents.platform", "v1", "coderuns"
POLL_S = 0.02


def coderun(name: str, *, task: int = 3, app: str = "5DLabs-Cleo", **labels: str) -> dict[str, Any]:
    return {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": {
            "name": name,
            "labels": {"task-id": str(task), "github-app": app, **labels},
        },
        "spec": {
            "taskId": task,
            "service": "svc",
            "repositoryUrl": "https://github.com/5dlabs/demo",
            "docsRepositoryUrl": "https://github.com/5dlabs/docs",
            "workingDirectory": ".",
            "model": "claude-sonnet",
            "githubApp": app,
        },
    }


def micro_time(ago: float = 0.0) -> str:
    """A ``MicroTime`` ``ago`` seconds back, as the apiserver accepts it (six digits)."""
    stamp = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=ago)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reference(obj: Mapping[str, Any]) -> dict[str, str]:
    """An ObjectReference to a stored object (``regarding`` / ``involvedObject``)."""
    meta = obj["metadata"]
    return {
        "apiVersion": obj["apiVersion"],
        "kind": obj["kind"],
        "name": meta["name"],
        "namespace": meta.get("namespace", ""),
        "uid": meta["uid"],
    }


def new_event(
    name: str,
    regarding: Mapping[str, str],
    *,
    reason: str = "CancellationRequested",
    note: str = "task 3: head abc123, epoch 2; requested by push-intake: superseded",
    kind: str = "Normal",
    ago: float = 0.0,
) -> dict[str, Any]:
    """An ``events.k8s.io/v1`` Event as remedy records one."""
    return {
        "apiVersion": "events.k8s.io/v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": regarding.get("namespace") or "default"},
        "eventTime": micro_time(ago),
        "reportingController": "remedy",
        "reportingInstance": "agent-cancel-0",
        "action": "Cancel",
        "reason": reason,
        "regarding": dict(regarding),
        "note": note,
        "type": kind,
    }


@dataclass
class Http:
    """Raw HTTP against the emulator."""

    base: str
    session: requests.Session
    ca: str

    def __call__(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        # Per request: REQUESTS_CA_BUNDLE in the environment would override the session's.
        kwargs.setdefault("verify", self.ca)
        return self.session.request(method, self.base + path, timeout=10, **kwargs)


@dataclass
class Kubectl:
    kubeconfig: Path
    cache: Path

    def argv(self, *args: str) -> list[str]:
        return [
            str(kubectl_binary()),
            "--kubeconfig",
            str(self.kubeconfig),
            "--cache-dir",
            str(self.cache),
            *args,
        ]

    def __call__(
        self, *args: str, check: bool = True, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            self.argv(*args), capture_output=True, text=True, input=stdin, timeout=60, check=False
        )
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {result.stderr}")
        return result

    def start(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
