"""The workflow simulator survives restarts, conflicts and lost watch history.

Covers: a restart while Cleo runs creates no second CodeRun; a restart between creating
a run and recording it adopts the run made for the node (found by its labels), but not
one made for an earlier workflow of the same name (another uid); a recorded run that
vanished while the simulator was down parks the workflow; 409s on the workflow (a burst
of injected ones, and a real concurrent write while the simulator's write is in flight)
are met by re-reading and redoing the step, never by overwriting the other write or
doing the step twice; a watch resumed after compaction (410) lists again; the
standalone ``python -m remedy.local.emulators.workflows`` and its delay setting.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from remedy.domain import agents
from remedy.domain.stages import Stage
from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.workflows import (
    SEGMENTS,
    WorkflowSimulator,
    step_delay_from_env,
    writes,
)
from tests.emulators.workflows.support import (
    AGENT_NS,
    CODERUN,
    nodes_named,
    play_workflow,
    resume,
    resumed,
    run_phase,
    runs,
    runs_ever_created,
    suspended_at,
    workflow,
)
from tests.support.waiting import eventually

Simulate = Callable[..., WorkflowSimulator]
LONG_RUN = {"remedy.dev/simulate-run-seconds": "3600"}
QUALITY = SEGMENTS[Stage.WAITING_PR_CREATED]


def _recorded_run(kube: KubeEmulator) -> str | None:
    for node in nodes_named(workflow(kube), "quality-work"):
        for parameter in (node.get("outputs") or {}).get("parameters") or []:
            return str(parameter["value"])
    return None


def _succeed(kube: KubeEmulator, name: str) -> None:
    run = kube.get(*CODERUN, name, AGENT_NS)
    run["status"] = {"phase": "Succeeded"}
    kube.apply(run)


def test_restart_while_cleo_runs_creates_no_second_run(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-ready-for-qa", annotations=LONG_RUN))
    first = simulate()
    start = kube.store.resource_version
    resume(custom, "play-task-7", remediation=True)
    name = eventually(lambda: _recorded_run(kube))
    eventually(lambda: run_phase(kube.get(*CODERUN, name, AGENT_NS)) == "Running")
    first.stop()
    # the restarted simulator sees the workflow before its runs (their first list fails):
    # a recorded run it has not seen yet is asked for, not taken as cancelled
    kube.faults.add("status", verb="list", resource="coderuns", count=1, status=503)
    simulate()
    _succeed(kube, name)
    eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    assert runs_ever_created(kube, start) == [name]


def _half_done(kube: KubeEmulator, *, run_made: str) -> tuple[str, str]:
    """A workflow whose quality step was started (its node added) but whose run was not
    recorded: the simulator stopped right after creating the run (``run_made`` "same"),
    before (``"none"``), or the run was made for an earlier workflow of the same name
    (``"older"``). Returns the node id and the run's name ("" if none)."""
    seeded = kube.apply(play_workflow(stage="waiting-pr-created", suspended=False))
    node_id = "play-task-7-0000000042"
    now = agents.format_time(datetime.now(UTC))
    kube.apply(writes.started(seeded, QUALITY, node_id=node_id, now=now))
    if run_made == "none":
        return node_id, ""
    uid = seeded["metadata"]["uid"] if run_made == "same" else "an-older-uid"
    owner = {**seeded, "metadata": {**seeded["metadata"], "uid": uid}}
    run = kube.apply(writes.coderun(owner, QUALITY, node_id=node_id, namespace=AGENT_NS))
    return node_id, str(run["metadata"]["name"])


@pytest.mark.parametrize("run_made", ["same", "none", "older"])
def test_a_started_step_is_picked_up_without_a_second_run(
    kube: KubeEmulator, simulate: Simulate, run_made: str
) -> None:
    start = kube.store.resource_version
    node_id, existing = _half_done(kube, run_made=run_made)
    simulate()
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    recorded = _recorded_run(kube)
    created = runs_ever_created(kube, start)
    if run_made == "same":
        assert created == [existing] and recorded == existing
    elif run_made == "none":
        assert created == [recorded]
    else:
        assert created == [existing, recorded] and recorded != existing
    assert [n["id"] for n in nodes_named(done, "quality-work")] == [node_id]


def test_a_recorded_run_that_vanished_parks_the_workflow(
    kube: KubeEmulator, simulate: Simulate
) -> None:
    seeded = kube.apply(play_workflow(stage="waiting-pr-created", suspended=False))
    now = agents.format_time(datetime.now(UTC))
    started = writes.started(seeded, QUALITY, node_id="play-task-7-0000000042", now=now)
    kube.apply(writes.recorded(started, node_id="play-task-7-0000000042", run_name="gone"))
    simulate()
    parked = eventually(lambda: suspended_at(kube, "waiting-pr-created"))
    assert nodes_named(parked, "quality-work")[0]["phase"] == "Failed"
    assert runs(kube) == []


def _resume_directly(kube: KubeEmulator, **how: Any) -> None:
    """A resume written straight into the emulator (past the HTTP faults)."""
    kube.apply(resumed(workflow(kube), **how))


def _simulated_at_qa(kube: KubeEmulator, simulate: Simulate) -> int:
    """A play workflow suspended at waiting-ready-for-qa, simulated; the resourceVersion
    from which to count what the simulator creates."""
    kube.apply(play_workflow(stage="waiting-ready-for-qa"))
    simulate()
    return kube.store.resource_version


def test_a_burst_of_conflicts_is_retried_by_rereading(
    kube: KubeEmulator, simulate: Simulate
) -> None:
    start = _simulated_at_qa(kube, simulate)
    rule = kube.faults.add("conflict", verb="update", resource="workflows", count=3)
    _resume_directly(kube, remediation=True)
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    assert rule.fired == 3
    assert len(nodes_named(done, "quality-work")) == 1
    assert len(runs_ever_created(kube, start)) == 1


def test_a_concurrent_write_is_kept_and_the_step_redone(
    kube: KubeEmulator, simulate: Simulate
) -> None:
    start = _simulated_at_qa(kube, simulate)
    kube.faults.add("latency", verb="update", resource="workflows", count=1, latency_ms=1000)
    _resume_directly(kube, remediation=True)
    # the simulator's first write is in flight (held back by the latency): write under it
    eventually(lambda: kube.stats.snapshot().get("update workflows", 0) >= 1)
    changed = workflow(kube)
    changed["metadata"]["annotations"]["someone-else"] = "was here"
    kube.apply(changed)
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    assert done["metadata"]["annotations"]["someone-else"] == "was here"
    assert len(nodes_named(done, "quality-work")) == 1
    assert len(runs_ever_created(kube, start)) == 1


def test_recovers_after_compaction(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    """A watch resumed from a compacted resourceVersion gets 410; the simulator lists again."""
    kube.apply(play_workflow(stage="waiting-pr-approved"))
    simulate(watch_timeout_seconds=1)
    resume(custom, "play-task-7")
    eventually(lambda: suspended_at(kube, "waiting-pr-merged"))
    kube.store.compact()
    resume(custom, "play-task-7")
    eventually(lambda: workflow(kube)["status"]["phase"] == "Succeeded", timeout=15)


@pytest.mark.parametrize(("value", "expected"), [(None, 0.5), ("", 0.5), ("0", 0.0), ("2.5", 2.5)])
def test_step_delay_from_the_environment(value: str | None, expected: float) -> None:
    env = {} if value is None else {"REMEDY_WORKFLOW_STEP_DELAY_SECONDS": value}
    assert step_delay_from_env(env) == expected


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_a_malformed_step_delay_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="REMEDY_WORKFLOW_STEP_DELAY_SECONDS"):
        step_delay_from_env({"REMEDY_WORKFLOW_STEP_DELAY_SECONDS": value})


def _standalone(kubeconfig: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    argv = [
        sys.executable,
        "-m",
        "remedy.local.emulators.workflows",
        "--kubeconfig",
        str(kubeconfig),
    ]
    return subprocess.Popen(
        [*argv, "--namespace", "argo", "--coderun-namespace", AGENT_NS, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_standalone(
    kube: KubeEmulator, custom: client.CustomObjectsApi, tmp_path: Path, agents: object
) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    process = _standalone(kubeconfig, env={"REMEDY_WORKFLOW_STEP_DELAY_SECONDS": "0.05"})
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == "workflow simulator: watching argo (steps after 0.05s)"
        kube.apply(play_workflow(stage="waiting-ready-for-qa"))
        resume(custom, "play-task-7")
        eventually(lambda: suspended_at(kube, "waiting-pr-approved"), timeout=20)
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0


def test_standalone_refuses_a_malformed_delay(kube: KubeEmulator, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    process = _standalone(kubeconfig, env={"REMEDY_WORKFLOW_STEP_DELAY_SECONDS": "soon"})
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2 and "REMEDY_WORKFLOW_STEP_DELAY_SECONDS" in err
