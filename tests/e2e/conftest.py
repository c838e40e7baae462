"""The ``remedy up --demo`` process tree the workflow tests share, and the demo's push.

Starting the platform takes seconds, so the test_up_workflow* modules share one (package
scope: it stops once they are done). ``demo_pushed`` sends the demo's push once, the way
the README says (``remedy invoke webhook``), waits until the play workflow has moved on
past remedy's resume (Cleo ran, suspended at waiting-ready-for-qa again) and keeps what
it looked like then, so the tests reading it do not depend on what ran after.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.demo import GATE, Demo, waiting_at
from tests.support.waiting import eventually

REMEDY = [sys.executable, "-m", "remedy.cli"]
START_TIMEOUT_S = 90
STEP_DELAY_S = 0.3
PING_S = 1.0
FIRST_DELIVERY = "e2e-workflow-1"


@dataclass(frozen=True)
class Pushed:
    """The demo once its push was handled and the workflow moved on (a snapshot)."""

    workflow: dict[str, Any]
    runs: dict[str, dict[str, Any]]


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    workdir = tmp_path_factory.mktemp("up-workflow")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN"}
    }
    env["REMEDY_LOG_LEVEL"] = "INFO"  # the broker's deliveries are read from its log
    log = (workdir / "up.log").open("w")
    flags = ["--workflow-step-delay", str(STEP_DELAY_S), "--ping-seconds", str(PING_S)]
    proc = subprocess.Popen(
        [*REMEDY, "up", "--workdir", str(workdir), "--demo", *flags],
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
    state = json.loads(state_file.read_text())
    yield Demo(state=state, workdir=workdir, state_file=state_file)
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
    log.close()


@pytest.fixture(scope="package")
def demo_pushed(demo: Demo) -> Pushed:
    invoke = ["invoke", "webhook", "--event", "push", "--file", demo.state["demo"]["push_file"]]
    options = ["--wait", "0", "--state-file", str(demo.state_file), "--id", FIRST_DELIVERY]
    result = subprocess.run(
        [*REMEDY, *invoke, *options],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return eventually(lambda: _moved_on(demo), timeout=60, every=0.2)


def _moved_on(demo: Demo) -> Pushed | None:
    """The demo once the workflow ran quality-work after the resume and suspended again."""
    workflow = demo.workflow()
    nodes = workflow["status"]["nodes"].values()
    done = any(n.get("displayName") == "quality-work" and n["phase"] == "Succeeded" for n in nodes)
    if not (done and waiting_at(workflow) == [GATE]):
        return None
    return Pushed(workflow=workflow, runs=demo.coderuns())
