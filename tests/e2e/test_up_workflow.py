"""``remedy up --demo``: after remedy resumes the play workflow, it moves on as Argo would.

Covers: the demo's push goes through the whole chain (Cleo and Tess cancelled, the
workflow reset to waiting-pr-created and resumed by remedy); the workflow simulator
that ``remedy up`` starts then runs a new Cleo (a CodeRun in agent-platform, played to
its end by the agent simulator, on the head the workflow names) and suspends the
workflow at waiting-ready-for-qa again; ``--workflow-step-delay`` reaches it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from remedy.adapters.kube import api_client
from remedy.domain import agents
from remedy.domain import workflows as wf
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

REMEDY = [sys.executable, "-m", "remedy.cli"]
START_TIMEOUT_S = 90
STEP_DELAY_S = 0.3
DELAY_FLAG = ("--workflow-step-delay", str(STEP_DELAY_S))


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("up-workflow")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN"}
    }
    log = (workdir / "up.log").open("w")
    proc = subprocess.Popen(
        [*REMEDY, "up", "--workdir", str(workdir), "--demo", *DELAY_FLAG],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    state_file = workdir / "state.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not state_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"remedy up did not start:\n{(workdir / 'up.log').read_text()[-4000:]}")
        time.sleep(0.1)  # polling a file another process writes; no event to wait on
    yield {"state": json.loads(state_file.read_text()), "workdir": workdir, "file": state_file}
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


def _workflow(custom: client.CustomObjectsApi) -> dict[str, Any]:
    return dict(
        custom.get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argo", "workflows", "play-task-12"
        )
    )


def _quality_runs(custom: client.CustomObjectsApi) -> list[dict[str, Any]]:
    listing = custom.list_namespaced_custom_object(
        "agents.platform", "v1", "agent-platform", "coderuns",
        label_selector="workflow-name=play-task-12,workflow-stage=quality",
    )  # fmt: skip
    return list(listing["items"])


def _moved_on(custom: client.CustomObjectsApi) -> dict[str, Any] | None:
    """The workflow once it ran quality-work after the resume and suspended again."""
    obj = _workflow(custom)
    nodes = obj["status"]["nodes"].values()
    done = any(n.get("displayName") == "quality-work" and n["phase"] == "Succeeded" for n in nodes)
    waiting = [n.stage for n in wf.active_suspend_nodes(obj)]
    return obj if done and waiting == ["waiting-ready-for-qa"] else None


def test_the_demo_workflow_moves_on_after_remedy_resumes_it(platform: dict[str, Any]) -> None:
    state = platform["state"]
    push_file = state["demo"]["push_file"]
    push = json.loads(Path(push_file).read_text())
    invoke = ["invoke", "webhook", "--event", "push", "--file", push_file, "--wait", "0"]
    result = subprocess.run(
        [*REMEDY, *invoke, "--state-file", str(platform["file"]), "--id", "e2e-workflow-1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    custom = client.CustomObjectsApi(api_client(state["kubeconfig"]))
    moved = eventually(lambda: _moved_on(custom), timeout=60, every=0.2)

    messages = [n.get("message", "") for n in moved["status"]["nodes"].values()]
    assert any(m.startswith("Resumed by: remedy") for m in messages)  # remedy's resume
    labels = moved["metadata"]["labels"]
    assert (labels["previous-stage"], labels["current-stage"]) == (
        "waiting-pr-created",
        "waiting-ready-for-qa",
    )
    [cleo] = _quality_runs(custom)
    assert cleo["status"]["phase"] == "Succeeded" and cleo["spec"]["githubApp"] == "5DLabs-Cleo"
    head = (moved["metadata"].get("annotations") or {}).get(agents.HEAD_SHA)
    assert head in (None, push["after"])
    assert (cleo["metadata"].get("annotations") or {}).get(agents.HEAD_SHA) == head
    # the runs the push made obsolete are gone; only the workflow's new one remains
    names = [
        run["metadata"]["name"]
        for run in custom.list_namespaced_custom_object(
            "agents.platform", "v1", "agent-platform", "coderuns"
        )["items"]
    ]
    assert "cleo-task-12" not in names and "tess-task-12" not in names
    assert cleo["metadata"]["name"] in names
    log = (platform["workdir"] / "up.log").read_text()
    assert f"workflow simulator: watching argo (steps after {STEP_DELAY_S:g}s)" in log


@pytest.mark.parametrize(
    ("flag", "env"),
    [(["--workflow-step-delay", "-1"], {}), ([], {"REMEDY_WORKFLOW_STEP_DELAY_SECONDS": "soon"})],
    ids=["negative-flag", "malformed-env"],
)
def test_a_bad_step_delay_stops_remedy_up_before_it_starts(
    tmp_path: Path, flag: list[str], env: dict[str, str]
) -> None:
    result = subprocess.run(
        [*REMEDY, "up", "--workdir", str(tmp_path), *flag],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **env},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "step delay" in result.stderr or "STEP_DELAY" in result.stderr
    assert not (tmp_path / "state.json").exists()
