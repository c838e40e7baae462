"""The ``remedy up --demo`` process tree the workflow tests share, and the demo's push.

Starting the platform takes seconds, so the test_up_workflow* modules share one (package
scope: it stops once they are done). ``demo_pushed`` sends the demo's push once, the way
the README says (``remedy invoke webhook``), waits until the play workflow has moved on
past remedy's resume (Cleo ran, suspended at waiting-ready-for-qa again) and keeps what
it looked like then, so the tests reading it do not depend on what ran after.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.demo import GATE, Demo, waiting_at
from tests.e2e.process import REMEDY, start_up
from tests.support.waiting import eventually

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
    flags = ["--demo", "--workflow-step-delay", str(STEP_DELAY_S), "--ping-seconds", str(PING_S)]
    # the broker's deliveries are read from its log
    up = start_up(tmp_path_factory.mktemp("up-workflow"), *flags, env={"REMEDY_LOG_LEVEL": "INFO"})
    yield Demo(state=up.state, workdir=up.workdir, state_file=up.state_file)
    up.stop()


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
