"""``remedy up --demo``: after remedy resumes the play workflow, it moves on as Argo would.

Covers: the demo's push goes through the whole chain (Cleo and Tess cancelled, the
workflow reset to waiting-pr-created and resumed by remedy); the workflow simulator
that ``remedy up`` starts then runs a new Cleo (a CodeRun in agent-platform, played to
its end by the agent simulator, on the head the workflow names) and suspends the
workflow at waiting-ready-for-qa again; ``--workflow-step-delay`` reaches it.
The platform and the demo's push are the package's fixtures (conftest.py).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.conftest import STEP_DELAY_S, Pushed
from tests.e2e.demo import Demo, head_of, is_quality, resume_messages
from tests.e2e.process import REMEDY

pytestmark = pytest.mark.e2e


def test_the_demo_workflow_moves_on_after_remedy_resumes_it(
    demo: Demo, demo_pushed: Pushed
) -> None:
    moved, runs = demo_pushed.workflow, demo_pushed.runs
    assert sum(resume_messages(moved).values()) == 1  # remedy's resume
    labels = moved["metadata"]["labels"]
    assert (labels["previous-stage"], labels["current-stage"]) == (
        "waiting-pr-created",
        "waiting-ready-for-qa",
    )
    [cleo] = [run for run in runs.values() if is_quality(run)]
    assert cleo["status"]["phase"] == "Succeeded" and cleo["spec"]["githubApp"] == "5DLabs-Cleo"
    head = head_of(moved)
    assert head in (None, demo.push["after"])
    assert head_of(cleo) == head
    # the runs the push made obsolete are gone; only the workflow's new one remains
    assert "cleo-task-12" not in runs and "tess-task-12" not in runs
    log = (demo.workdir / "up.log").read_text()
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
