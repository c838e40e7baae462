"""The workflow simulator with the agent simulator, on the Kubernetes emulator over HTTP.

Covers: a remediation resume runs Cleo on the pushed head (a CodeRun labelled as the
template labels it, in the agents' namespace), waits for it to finish, then moves the
stage and suspends at waiting-ready-for-qa — only after the step delay; a ready-for-qa
resume runs Tess and suspends at waiting-pr-approved; approval leads to
waiting-pr-merged and then completion; CodeRuns in the workflow's own namespace are
owned by it; a Cleo run deleted or stopped before it finished parks the workflow at
waiting-pr-created (no new run, no stage passed) and a later resume starts over; a
failed run fails the workflow; a new workflow runs the implementation cycle (Rex)
first; a workflow deleted and created again mid-step starts over with a run of its own
(the old workflow's run moves nothing); unmarked workflows are left alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from remedy.domain import agents
from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.workflows import WorkflowSimulator
from tests.emulators.workflows.support import (
    AGENT_NS,
    ARGO_NS,
    CODERUN,
    CODERUNS,
    DELAY_S,
    WORKFLOWS,
    nodes_named,
    play_workflow,
    resume,
    run_phase,
    runs,
    runs_ever_created,
    stage,
    suspended_at,
    waiting_at,
    workflow,
)
from tests.support.waiting import eventually

Simulate = Callable[..., WorkflowSimulator]
HEAD = "a" * 40
LONG_RUN = {"remedy.dev/simulate-run-seconds": "3600"}


def _events_rv(kube: KubeEmulator, plural: tuple[str, str], since: int, check: object) -> int:
    """The resourceVersion of the first event since ``since`` whose object passes ``check``."""
    assert callable(check)
    for event in kube.store.events_after(since, plural):
        if check(event.stored.obj):
            return event.resource_version
    raise AssertionError("no such event")


def test_remediation_runs_cleo_then_suspends_at_ready_for_qa(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-ready-for-qa"))
    simulate()
    start = kube.store.resource_version
    resume(custom, "play-task-7", remediation=True, head=HEAD)
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))

    [cleo] = runs(kube, step="quality")
    labels = cleo["metadata"]["labels"]
    assert cleo["metadata"]["name"].startswith("coderun-quality-task7-")
    assert labels["task-id"] == "7" and labels["workflow-name"] == "play-task-7"
    assert labels["github-app"] == cleo["spec"]["githubApp"] == "5DLabs-Cleo"
    assert labels["remedy.dev/simulate"] == "true" and cleo["spec"]["taskId"] == 7
    assert cleo["metadata"]["annotations"][agents.HEAD_SHA] == HEAD
    assert run_phase(cleo) == "Succeeded"
    assert runs(kube) == [cleo]
    assert done["metadata"]["labels"]["previous-stage"] == "waiting-pr-created"
    [wait] = nodes_named(done, "wait-ready-for-qa")
    assert wait["type"] == "Suspend" and wait["templateName"] == "suspend-for-event"
    [task] = nodes_named(done, "quality-work")
    assert task["phase"] == "Succeeded"
    assert task["outputs"]["parameters"] == [
        {"name": "coderun-name", "value": cleo["metadata"]["name"]}
    ]
    assert nodes_named(done, "update-to-waiting-qa")[0]["phase"] == "Succeeded"
    # the stage moved only after Cleo's run had succeeded
    succeeded = _events_rv(
        kube, ("agents.platform", "coderuns"), start, lambda o: run_phase(o) == "Succeeded"
    )
    moved = _events_rv(
        kube, ("argoproj.io", "workflows"), start, lambda o: stage(o) == "waiting-ready-for-qa"
    )
    assert succeeded < moved
    # and the first step waited for the delay after the resume
    resumed_at = agents.parse_time(nodes_named(done, "wait")[0]["finishedAt"])
    started_at = agents.parse_time(task["startedAt"])
    assert resumed_at is not None and started_at is not None
    assert (started_at - resumed_at).total_seconds() >= DELAY_S


def test_ready_for_qa_resume_runs_tess_then_suspends_at_pr_approved(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-ready-for-qa", annotations={agents.HEAD_SHA: HEAD}))
    simulate()
    resume(custom, "play-task-7")
    done = eventually(lambda: suspended_at(kube, "waiting-pr-approved"))
    [tess] = runs(kube)
    assert tess["metadata"]["labels"]["workflow-stage"] == "testing"
    assert tess["spec"]["githubApp"] == "5DLabs-Tess" and run_phase(tess) == "Succeeded"
    assert tess["spec"]["env"]["QA_READY"] == "true"
    assert done["metadata"]["labels"]["previous-stage"] == "waiting-ready-for-qa"
    assert [n["phase"] for n in nodes_named(done, "testing-work")] == ["Succeeded"]
    assert nodes_named(done, "wait-pr-approved")


def test_approval_leads_to_merge_wait_then_completion(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-pr-approved"))
    simulate()
    resume(custom, "play-task-7")
    merged = eventually(lambda: suspended_at(kube, "waiting-pr-merged"))
    assert nodes_named(merged, "wait-pr-merged")
    assert merged["status"]["phase"] == "Running"
    resume(custom, "play-task-7")
    done = eventually(lambda: workflow(kube)["status"]["phase"] == "Succeeded" and workflow(kube))
    assert stage(done) == "completed"
    assert done["metadata"]["labels"]["previous-stage"] == "waiting-pr-merged"
    assert done["status"]["finishedAt"]
    assert done["status"]["nodes"]["play-task-7"]["phase"] == "Succeeded"
    assert nodes_named(done, "complete-task")[0]["templateName"] == "task-completion"
    assert not waiting_at(done)
    assert runs(kube) == []


def test_coderuns_in_the_workflows_namespace_are_owned_by_it(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-ready-for-qa"))
    simulate(coderun_namespace=None)
    resume(custom, "play-task-7")
    eventually(lambda: suspended_at(kube, "waiting-pr-approved"))
    [tess] = [r for r in kube.list(*CODERUN, ARGO_NS)]
    [owner] = tess["metadata"]["ownerReferences"]
    assert owner["kind"] == "Workflow" and owner["uid"] == workflow(kube)["metadata"]["uid"]
    assert runs(kube) == []  # nothing in the agents' namespace


def _delete(kube: KubeEmulator, custom: client.CustomObjectsApi, run: dict[str, Any]) -> None:
    name = run["metadata"]["name"]
    custom.delete_namespaced_custom_object(*CODERUNS[:2], AGENT_NS, CODERUNS[2], name)


def _stop(kube: KubeEmulator, custom: client.CustomObjectsApi, run: dict[str, Any]) -> None:
    """The agent stops when asked to, as the agent simulator's acknowledgement records it."""
    stopped = kube.get(*CODERUN, run["metadata"]["name"], AGENT_NS)
    stopped["status"] = {"phase": "Cancelled", "message": "cancelled on request"}
    kube.apply(stopped)


@pytest.mark.parametrize("cancel", [_delete, _stop], ids=["deleted", "stopped"])
def test_a_cancelled_cleo_run_parks_the_workflow(
    kube: KubeEmulator,
    custom: client.CustomObjectsApi,
    simulate: Simulate,
    cancel: Callable[..., None],
) -> None:
    kube.apply(play_workflow(stage="waiting-ready-for-qa", annotations=LONG_RUN))
    simulate()
    start = kube.store.resource_version
    resume(custom, "play-task-7", remediation=True, head=HEAD)
    cleo = eventually(lambda: next((r for r in runs(kube) if run_phase(r) == "Running"), None))
    cancel(kube, custom, cleo)
    parked = eventually(lambda: suspended_at(kube, "waiting-pr-created"))

    assert nodes_named(parked, "wait-pr-created")[0]["type"] == "Suspend"
    [task] = nodes_named(parked, "quality-work")
    assert task["phase"] == "Failed" and "cancelled" in task["message"]
    assert parked["metadata"]["labels"]["previous-stage"] == "waiting-ready-for-qa"  # remedy's
    assert runs_ever_created(kube, start) == [cleo["metadata"]["name"]]
    assert parked["status"]["phase"] == "Running"

    # remedy's next resume (a newer push) starts the quality stage over on the new head
    newer = "b" * 40
    resume(
        custom,
        "play-task-7",
        remediation=True,
        head=newer,
        epoch=2,
        extra={"remedy.dev/simulate-run-seconds": "0.05"},
    )
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    second = [r for r in runs(kube) if r["metadata"]["name"] != cleo["metadata"]["name"]]
    assert [r["metadata"]["annotations"][agents.HEAD_SHA] for r in second] == [newer]
    assert [n["phase"] for n in nodes_named(done, "quality-work")] == ["Failed", "Succeeded"]


def test_a_failed_run_fails_the_workflow(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    failing = {"remedy.dev/simulate-outcome": "Failed"}
    kube.apply(play_workflow(stage="waiting-ready-for-qa", annotations=failing))
    simulate()
    resume(custom, "play-task-7")
    done = eventually(lambda: workflow(kube)["status"]["phase"] == "Failed" and workflow(kube))
    assert stage(done) == "waiting-ready-for-qa" and not waiting_at(done)
    [task] = nodes_named(done, "testing-work")
    assert task["phase"] == "Failed" and "failed" in done["status"]["message"]


def test_a_new_workflow_runs_rex_then_cleo(kube: KubeEmulator, simulate: Simulate) -> None:
    kube.apply(play_workflow(stage="pending", suspended=False))
    simulate()
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    [rex] = runs(kube, step="implementation")
    [cleo] = runs(kube, step="quality")
    assert rex["spec"]["githubApp"] == "5DLabs-Rex" and cleo["spec"]["githubApp"] == "5DLabs-Cleo"
    assert rex["metadata"]["creationTimestamp"] <= cleo["metadata"]["creationTimestamp"]
    names = [n["displayName"] for n in sorted(done["status"]["nodes"].values(), key=_started)]
    tasks = ("implementation-cycle", "quality-work", "update-to-waiting-qa", "wait-ready-for-qa")
    assert names[1:] == list(tasks)


def _started(node: dict[str, Any]) -> str:
    return str(node.get("startedAt", ""))


def test_a_workflow_replaced_mid_step_starts_over(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(stage="waiting-pr-created", suspended=False, annotations=LONG_RUN))
    simulate()
    old = eventually(lambda: next((r for r in runs(kube) if run_phase(r) == "Running"), None))
    custom.delete_namespaced_custom_object(*WORKFLOWS[:2], ARGO_NS, WORKFLOWS[2], "play-task-7")
    kube.apply(play_workflow(stage="waiting-pr-created", suspended=False, annotations=LONG_RUN))
    # Running first, as ``old`` is: finished while still Pending, the agent simulator's
    # due "running" step could overwrite the Succeeded phase (a race in the test itself)
    new = eventually(
        lambda: next(
            (
                r
                for r in runs(kube)
                if r["metadata"]["name"] != old["metadata"]["name"] and run_phase(r) == "Running"
            ),
            None,
        )
    )
    uid = workflow(kube)["metadata"]["uid"]
    assert new["metadata"]["annotations"]["remedy.dev/workflow-uid"] == uid
    _finish(kube, old)  # the old workflow's run ends: the new workflow does not move
    _finish(kube, new)
    done = eventually(lambda: suspended_at(kube, "waiting-ready-for-qa"))
    [task] = nodes_named(done, "quality-work")
    assert task["outputs"]["parameters"][0]["value"] == new["metadata"]["name"]


def _finish(kube: KubeEmulator, run: dict[str, Any]) -> None:
    finished = kube.get(*CODERUN, run["metadata"]["name"], AGENT_NS)
    finished["status"] = {"phase": "Succeeded"}
    kube.apply(finished)


def test_unmarked_workflows_are_left_alone(
    kube: KubeEmulator, custom: client.CustomObjectsApi, simulate: Simulate
) -> None:
    kube.apply(play_workflow(8, stage="waiting-pr-created", suspended=False, simulate=False))
    untouched = workflow(kube, 8)
    kube.apply(play_workflow(7, stage="waiting-pr-created", suspended=False))
    simulate()
    eventually(lambda: suspended_at(kube, "waiting-ready-for-qa", task=7))
    assert workflow(kube, 8) == untouched
    assert runs(kube, 8) == []
