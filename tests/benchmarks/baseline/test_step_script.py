"""The baseline step script does the remediation remedy does, on the same platform.

Covers: for a seeded task, ``step_script.sh`` deletes Cleo's and Tess's runs and leaves
Rex's and another task's, swaps ``ready-for-qa`` for ``remediation-in-progress`` on the
task's PR (other PRs untouched), moves the play workflow to ``waiting-pr-created`` and
resumes it the ``argo resume`` way (suspend node Succeeded, "Resumed by"); a GitHub
that refuses the token makes the run fail with GitHub's status in the error.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.benchmarks.baseline.runner import Baseline
from tests.chaos.harness import Harness
from tests.chaos.seeding import AGENT_NS, ARGO_NS, REPO, seed_remediation_task

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = Harness.start(tmp_path_factory.mktemp("baseline"), function_env={}, ping_seconds=3600)
    yield harness
    harness.stop()


def _baseline(platform: Harness, **state: str) -> Iterator[Baseline]:
    baseline = Baseline({**platform.state, **state}, repo=REPO, agent_ns=AGENT_NS, argo_ns=ARGO_NS)
    baseline.warm()
    yield baseline
    baseline.close()


@pytest.fixture
def baseline(platform: Harness) -> Iterator[Baseline]:
    yield from _baseline(platform)


def test_the_script_remediates_the_task_and_nothing_else(
    platform: Harness, baseline: Baseline
) -> None:
    pr = seed_remediation_task(platform, 1, ack_delay_s="never")
    other = seed_remediation_task(platform, 2, ack_delay_s="never")

    assert baseline.run(task=1, branch="task-1-chaos") > 0

    runs = platform.coderuns()
    assert {"rex-1", "rex-2", "cleo-2", "tess-2"} <= runs.keys()
    assert not {"cleo-1", "tess-1"} & runs.keys()
    assert platform.labels(pr) == {"task-1", "remediation-in-progress"}
    assert platform.labels(other) == {"task-2", "ready-for-qa"}
    workflow = platform.workflow(1)
    assert workflow["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    node = workflow["status"]["nodes"]["wait-0"]
    assert (node["phase"], node["message"]) == ("Succeeded", "Resumed by: baseline")
    untouched = platform.workflow(2)["status"]["nodes"]["wait-0"]
    assert untouched["phase"] == "Running"


def test_a_refused_github_token_fails_the_run(platform: Harness) -> None:
    seed_remediation_task(platform, 3, ack_delay_s="never")
    for refused in _baseline(platform, github_token="not-a-token"):
        with pytest.raises(RuntimeError, match="answered 401"):
            refused.run(task=3, branch="task-3-chaos")
