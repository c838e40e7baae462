"""The reconciler applies kept resumes once the workflow gets there — exactly once.

Covers: a remediation's resume kept because the workflow was not at a suspend point is
left alone (no workflow write, no history entry) while the workflow still is not, then
applied the ``argo resume`` way once a Suspend node runs — ``resumed_epoch`` set, the
kept resume cleared, ``workflow.resumed`` (deferred) sent — and a further tick changes
nothing; an early QA approval (kept stage event) waits until the workflow suspends at
waiting-pr-approved and is then applied once; a kept stage event whose stage the
workflow already passed is dropped with its reason and no workflow write; a
remediation resume kept for an older epoch than the task's is left to the newer one.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.agents import format_time
from remedy.domain.remediation import KeptResume, RemediationState
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.chain.test_stages import pr_event, suspend_at, suspended_stages
from tests.reconciler.conftest import (
    BRANCH,
    Clock,
    MemorySink,
    drive,
    stage,
    state_of,
    workflow,
)
from tests.support.events import acked


def test_a_kept_remediation_resume_is_applied_once_the_workflow_suspends(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested, _, labelled = drive(apps, "d-3")
    acked(apps["workflow-resume"], labelled)
    epoch = requested.get_data()["epoch"]
    assert state_of(states).kept_resume is not None
    history = len(state_of(states).history)

    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert kube.stats.snapshot().get("update workflows") is None
    assert len(state_of(states).history) == history, "a still-waiting resume logs nothing"
    assert stage(custom) == "waiting-ready-for-qa"

    suspend_at(custom, "waiting-ready-for-qa")
    report = reconciler.tick().task(12)
    assert report is not None and "resumed" in report.resume
    current = workflow(custom)
    assert current["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    assert current["metadata"]["annotations"]["remedy.dev/epoch"] == str(epoch)
    assert suspended_stages(custom) == set()
    state = state_of(states)
    assert (state.resumed_epoch, state.kept_resume) == (epoch, None)
    (resumed,) = memory_sink.events
    assert (resumed["type"], resumed["id"], resumed["source"]) == (
        "dev.remedy.workflow.resumed",
        "d-3:workflow.resumed",
        "/remedy/reconciler",
    )
    assert resumed.get_data()["deferred"] is True
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"

    version = workflow(custom)["metadata"]["resourceVersion"]
    clock.advance(600)
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert workflow(custom)["metadata"]["resourceVersion"] == version
    assert len(memory_sink.events) == 1


def test_an_early_approval_waits_for_its_stage_then_resumes_once(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    reconciler: Reconciler,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    approval = pr_event(
        "pull_request_review",
        delivery="a-1",
        review__state="approved",
        review__user__login="5DLabs-Tess[bot]",
    )
    acked(apps["workflow-resume"], approval)
    assert [k.target_stage for k in state_of(states).kept_stage_resumes] == ["waiting-pr-approved"]

    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}

    current = workflow(custom)
    current["status"]["nodes"]["play-12-1234-wait"]["phase"] = "Succeeded"
    custom.replace_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], "play-task-12", current
    )
    suspend_at(custom, "waiting-pr-approved")
    for _ in range(2):
        reconciler.tick()
    assert suspended_stages(custom) == set()
    state = state_of(states)
    assert state.kept_stage_resumes == []
    assert sum("resumed at waiting-pr-approved" in e.outcome for e in state.history) == 1
    assert [(e["type"], e["id"]) for e in memory_sink.events] == [
        ("dev.remedy.workflow.resumed", "a-1:workflow.resumed")
    ]


def _seed_state(states: KubeRemediationStates, state: RemediationState) -> None:
    states.save(state, resource_version=None)


def _kept(
    stage_name: str, *, epoch: int = 1, reason: str = "approved by 5DLabs-Tess"
) -> KeptResume:
    return KeptResume(
        epoch=epoch,
        delivery="k-1",
        target_stage=stage_name,
        reason=reason,
        kept_at=format_time(Clock().now),
    )


def test_a_kept_stage_event_for_a_passed_stage_is_dropped_without_a_workflow_write(
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    reconciler: Reconciler,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-pr-merged")
    _seed_state(
        states,
        RemediationState(
            task_id=12,
            repository=seed.REPO,
            epoch=1,
            kept_stage_resumes=[_kept("waiting-pr-approved")],
        ),
    )
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and "already past waiting-pr-approved" in report.resume
    assert state_of(states).kept_stage_resumes == []
    assert kube.stats.snapshot().get("update workflows") is None
    assert memory_sink.events == []


def test_a_remediation_resume_kept_for_an_older_epoch_is_left_to_the_newer_one(
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    reconciler: Reconciler,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    _seed_state(
        states,
        RemediationState(
            task_id=12,
            repository=seed.REPO,
            epoch=2,
            kept_resume=_kept("waiting-pr-created", epoch=1, reason="remediation"),
        ),
    )
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert kube.stats.snapshot().get("update workflows") is None
    assert state_of(states).kept_resume is not None
