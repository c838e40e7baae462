"""The workflow simulator's decisions and writes, without a cluster.

Covers: which step comes next for each state of a workflow and its agent's run (table);
the segment each stage runs to (the template's order, remedy's stage table); the
CodeRun made for a step (the template's labels, the pushed head, the agent settings,
an owner reference only within the workflow's namespace); a parked workflow keeps its
stage; node ids stay unique.
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.domain import agents
from remedy.domain.stages import FORWARD, Stage
from remedy.local.emulators.workflows import SEGMENTS, steps, writes
from tests.emulators.workflows.support import play_workflow

NOW = "2025-01-01T00:00:00.000000Z"
NODE = "play-task-7-0000000001"
QUALITY = SEGMENTS[Stage.WAITING_PR_CREATED]


def _running(stage: str = "waiting-pr-created", **changes: Any) -> dict[str, Any]:
    obj = play_workflow(stage=stage, suspended=False)
    obj["metadata"]["uid"] = "uid-1"
    return obj | changes


def _with_task(run_name: str = "") -> dict[str, Any]:
    started = writes.started(_running(), QUALITY, node_id=NODE, now=NOW)
    return writes.recorded(started, node_id=NODE, run_name=run_name) if run_name else started


def _run(phase: str = "", *, deleting: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": "r"}
    if deleting:
        metadata["deletionTimestamp"] = NOW
    return {"metadata": metadata, "status": {"phase": phase}}


CASES: list[tuple[str, dict[str, Any], dict[str, Any] | None, str | None]] = [
    ("unmarked", play_workflow(stage="waiting-pr-created", suspended=False, simulate=False),
     None, None),
    ("suspended", play_workflow(stage="waiting-pr-created"), None, None),
    ("spec.suspend", _running(spec={"suspend": True}), None, None),
    ("finished", _running(status={"phase": "Succeeded", "nodes": {}}), None, None),
    ("being deleted", _running(metadata={**_running()["metadata"], "deletionTimestamp": NOW}),
     None, None),
    ("unknown stage", _running("somewhere"), None, None),
    ("completed stage", _running("completed"), None, None),
    ("pending", _running("pending"), None, "start pending"),
    ("after a remediation", _running(), None, "start waiting-pr-created"),
    ("after ready-for-qa", _running("waiting-ready-for-qa"), None, "start waiting-ready-for-qa"),
    ("after approval", _running("waiting-pr-approved"), None, "start waiting-pr-approved"),
    ("after merge", _running("waiting-pr-merged"), None, "start waiting-pr-merged"),
    ("task started", _with_task(), None, f"create {NODE}"),
    ("run not seen", _with_task("r"), None, f"finish {NODE} Gone"),
    ("run pending", _with_task("r"), _run("Pending"), None),
    ("run running", _with_task("r"), _run("Running"), None),
    ("run succeeded", _with_task("r"), _run("Succeeded"), f"finish {NODE} Succeeded"),
    ("run failed", _with_task("r"), _run("Failed"), f"finish {NODE} Failed"),
    ("run cancelled", _with_task("r"), _run("Cancelled"), f"finish {NODE} Cancelled"),
    ("run being deleted", _with_task("r"), _run("Running", deleting=True),
     f"finish {NODE} Cancelled"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("obj", "run", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_next_action(obj: dict[str, Any], run: dict[str, Any] | None, expected: str | None) -> None:
    action = steps.next_action(obj, lambda name: run if name == "r" else None)
    assert (action.signature if action else None) == expected


def test_each_segment_moves_the_stage_one_step_forward() -> None:
    for source, segment in SEGMENTS.items():
        assert (source, segment.target) in FORWARD
    assert SEGMENTS[Stage.WAITING_PR_CREATED].agent_parameter == "quality-agent"
    assert SEGMENTS[Stage.WAITING_READY_FOR_QA].agent_parameter == "testing-agent"


@pytest.mark.parametrize("stage", list(SEGMENTS))
def test_advancing_reaches_the_next_stage(stage: Stage) -> None:
    segment = SEGMENTS[stage]
    obj = writes.advanced(_running(str(stage)), segment, node_id=None, now=NOW)
    labels = obj["metadata"]["labels"]
    assert (labels["previous-stage"], labels["current-stage"]) == (stage, segment.target)
    suspends = [n for n in obj["status"]["nodes"].values() if n["type"] == "Suspend"]
    if segment.wait is None:
        assert suspends == []
    else:
        assert [n["displayName"] for n in suspends] == [segment.wait.task]
    assert (obj["status"]["phase"] == "Succeeded") is (segment.target is Stage.COMPLETED)


def test_the_coderun_carries_what_the_template_and_the_agents_need() -> None:
    obj = _running()
    obj["metadata"]["annotations"] = {
        agents.HEAD_SHA: "c" * 40,
        "remedy.dev/simulate-run-seconds": "2",
        "remedy.dev/epoch": "9",
    }
    obj["spec"]["arguments"] = {"parameters": [{"name": "quality-agent", "value": "Other"}]}
    run = writes.coderun(obj, QUALITY, node_id=NODE, namespace="agent-platform")
    assert run["metadata"]["generateName"] == "coderun-quality-task7-"
    assert run["metadata"]["labels"] == {
        "task-id": "7",
        "github-app": "Other",
        "workflow-name": "play-task-7",
        "workflow-stage": "quality",
        "workflow-type": "play-orchestration",
        "remedy.dev/simulate": "true",
        "remedy.dev/workflow-node": "0000000001",
    }
    annotations = run["metadata"]["annotations"]
    assert annotations[agents.HEAD_SHA] == "c" * 40
    assert annotations["remedy.dev/simulate-run-seconds"] == "2"
    assert "remedy.dev/epoch" not in annotations
    assert "ownerReferences" not in run["metadata"]  # never across namespaces
    own = writes.coderun(obj, QUALITY, node_id=NODE, namespace="argo")
    assert own["metadata"]["ownerReferences"][0]["uid"] == "uid-1"


def test_parking_keeps_the_stage_and_fails_the_step() -> None:
    obj = writes.parked(_with_task("r"), QUALITY, node_id=NODE, message="cancelled", now=NOW)
    assert obj["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    assert obj["status"]["nodes"][NODE]["phase"] == "Failed"
    assert steps.next_action(obj, lambda name: None) is None  # it waits at the park


def test_node_ids_do_not_collide() -> None:
    obj = _running()
    ids = set()
    for _ in range(50):
        node_id = writes.new_node_id(obj)
        assert node_id not in obj["status"]["nodes"]
        obj["status"]["nodes"][node_id] = {"id": node_id}
        ids.add(node_id)
    assert len(ids) == 50
