"""The agent simulator on the Kubernetes API emulator, over HTTP.

Covers: a marked CodeRun going Pending → Running → Succeeded through the status
subresource (seen in the emulator's event log), with lastUpdate, finishedAt and
conditions the CRD keeps; unmarked runs left untouched; the Failed outcome; runs
that existed before the simulator started and runs in several namespaces; a
cancellation request acknowledged (annotation and phase Cancelled) or ignored (the
run finishes normally); an injected acknowledge callable replacing the default; a
run deleted mid-way; recovery after the watch's history is compacted (410); the
standalone ``python -m remedy.local.emulators.agents``.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from remedy.domain import agents
from remedy.local.emulators.agents import AcknowledgeAfter, AgentSimulator, IgnoreCancellation, Plan
from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.agents.support import CODERUN, phase, phases_seen, run
from tests.support.waiting import eventually

Simulate = Callable[..., AgentSimulator]


def _request_cancel(kube: KubeEmulator, name: str) -> None:
    obj = kube.get(*CODERUN, name)
    obj["metadata"].setdefault("annotations", {})[agents.CANCEL_REQUESTED_AT] = (
        "2025-01-01T00:00:00.000000Z"
    )
    kube.apply(obj)


def test_marked_run_goes_through_its_phases(kube: KubeEmulator, simulate: Simulate) -> None:
    start = kube.store.resource_version
    simulate()
    kube.apply(run("cleo"))
    kube.apply(run("manual", simulate=False))
    eventually(lambda: phase(kube, "cleo") == "Succeeded")
    assert phases_seen(kube, "cleo", start) == ["Pending", "Running", "Succeeded"]
    status = kube.get(*CODERUN, "cleo")["status"]
    assert status["workCompleted"] is True and status["finishedAt"] and status["lastUpdate"]
    assert status["conditions"][0]["type"] == "Succeeded"
    assert phases_seen(kube, "manual", start) == []
    assert "status" not in kube.get(*CODERUN, "manual")


def test_failed_outcome(kube: KubeEmulator, simulate: Simulate) -> None:
    simulate()
    kube.apply(run("tess", **{"remedy.dev/simulate-outcome": "Failed"}))
    eventually(lambda: phase(kube, "tess") == "Failed")
    assert kube.get(*CODERUN, "tess")["status"]["workCompleted"] is False


def test_existing_runs_and_several_namespaces(kube: KubeEmulator, simulate: Simulate) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "agents"}})
    kube.apply(run("before"))
    simulate(namespaces=["default", "agents"])
    kube.apply(run("elsewhere", namespace="agents"))
    eventually(
        lambda: (
            phase(kube, "before") == "Succeeded"
            and phase(kube, "elsewhere", "agents") == "Succeeded"
        )
    )


def test_all_namespaces(kube: KubeEmulator, simulate: Simulate) -> None:
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "far"}})
    simulate(namespaces=None)
    kube.apply(run("away", namespace="far"))
    eventually(lambda: phase(kube, "away", "far") == "Succeeded")


def test_cancellation_acknowledged(kube: KubeEmulator, simulate: Simulate) -> None:
    simulate(plan=Plan(pending_seconds=0.01, run_seconds=60, ack_seconds=0.05))
    kube.apply(run("busy"))
    eventually(lambda: phase(kube, "busy") == "Running")
    _request_cancel(kube, "busy")
    eventually(lambda: phase(kube, "busy") == "Cancelled")
    annotations = kube.get(*CODERUN, "busy")["metadata"]["annotations"]
    assert agents.parse_time(annotations[agents.CANCEL_ACKNOWLEDGED_AT]) is not None


def test_cancellation_ignored(kube: KubeEmulator, simulate: Simulate) -> None:
    simulate(plan=Plan(pending_seconds=0.01, run_seconds=0.5), behaviour=IgnoreCancellation())
    kube.apply(run("stubborn"))
    eventually(lambda: phase(kube, "stubborn") == "Running")
    _request_cancel(kube, "stubborn")
    eventually(lambda: phase(kube, "stubborn") == "Succeeded")
    assert (
        agents.CANCEL_ACKNOWLEDGED_AT
        not in kube.get(*CODERUN, "stubborn")["metadata"]["annotations"]
    )


def test_ignoring_is_chosen_per_run(kube: KubeEmulator, simulate: Simulate) -> None:
    simulate(plan=Plan(pending_seconds=0.01, run_seconds=0.5, ack_seconds=0.01))
    kube.apply(run("obeys"))
    kube.apply(run("ignores", **{"remedy.dev/simulate-cancel": "ignore"}))
    eventually(lambda: phase(kube, "obeys") == "Running" and phase(kube, "ignores") == "Running")
    _request_cancel(kube, "obeys")
    _request_cancel(kube, "ignores")
    eventually(
        lambda: phase(kube, "obeys") == "Cancelled" and phase(kube, "ignores") == "Succeeded"
    )


def test_injected_acknowledge_replaces_the_default(kube: KubeEmulator, simulate: Simulate) -> None:
    calls: list[dict[str, Any]] = []
    simulate(
        plan=Plan(pending_seconds=0.01, run_seconds=60),
        behaviour=AcknowledgeAfter(0.01),
        acknowledge=calls.append,
    )
    kube.apply(run("custom"))
    eventually(lambda: phase(kube, "custom") == "Running")
    _request_cancel(kube, "custom")
    eventually(lambda: calls)
    assert [call["metadata"]["name"] for call in calls] == ["custom"]
    assert phase(kube, "custom") == "Running"


def test_run_deleted_midway(kube: KubeEmulator, simulate: Simulate) -> None:
    simulate(plan=Plan(pending_seconds=0.01, run_seconds=0.2))
    kube.apply(run("short-lived"))
    eventually(lambda: phase(kube, "short-lived") == "Running")
    kube.cluster.delete(kube.cluster.resource(*CODERUN), "default", "short-lived")
    kube.apply(run("next"))
    eventually(lambda: phase(kube, "next") == "Succeeded")
    assert kube.list(*CODERUN) == [kube.get(*CODERUN, "next")]


def test_recovers_after_compaction(kube: KubeEmulator, simulate: Simulate) -> None:
    """A watch resumed from a compacted resourceVersion gets 410; the simulator lists again."""
    simulate(watch_timeout_seconds=1)
    kube.apply(run("first"))
    eventually(lambda: phase(kube, "first") == "Succeeded")
    kube.store.compact()
    kube.apply(run("after"))
    eventually(lambda: phase(kube, "after") == "Succeeded")


def test_standalone(kube: KubeEmulator, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remedy.local.emulators.agents",
            "--kubeconfig",
            str(kubeconfig),
            "--run-seconds",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "agent simulator: watching default"
        kube.apply(run("remote", **{"remedy.dev/simulate-pending-seconds": "0"}))
        eventually(lambda: phase(kube, "remote") == "Succeeded", timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0
