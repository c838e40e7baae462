"""The reconciler's audit trail: forced and confirmed cancellations, kept resumes applied.

Covers: a run that never acknowledged is force-deleted after its grace with a
CancellationForced Warning on it (the grace, ``gracePeriodSeconds``, who asked and why),
and the resume that follows is WorkflowResumed from workflow-resume; later ticks write
nothing. A run held by a finalizer gets CancellationForced ("waiting for its
finalizers") once, then CancellationConfirmedGone once it is really gone. A
remediation's resume kept because the workflow was not at a suspend point is ResumeKept
on the workflow (from workflow-resume), nothing while it keeps waiting, then
WorkflowResumed from the reconciler once it suspends — once; a newer push kept for the
same reason is ResumeKept again, for its own epoch. An early approval is
ResumeKept (once, however often it comes) then StageResumed; a kept stage event
whose stage has passed is
ResumeDropped; a PR event simply ignored writes nothing. Every Event matches the audit
catalogue.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import RemediationState
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.chain.test_stages import pr_event, suspend_at
from tests.reconciler.conftest import BRANCH, NEW, Clock, MemorySink, coderun, deadline_of, drive
from tests.reconciler.test_cancellations import CLEO, cancel_running_cleo
from tests.reconciler.test_resumes import _kept
from tests.support import audit
from tests.support.events import acked, push_event, reply

PLAY = "play-task-12"
NEWER = "3" * 40


def test_a_forced_cancellation_is_a_warning_on_the_run(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    cancel_running_cleo(apps, custom, github)
    uid = states.load(12)[0].cancellations[CLEO].uid  # type: ignore[union-attr]
    epoch = states.load(12)[0].epoch  # type: ignore[union-attr]
    clock.now = deadline_of(states, CLEO) + timedelta(seconds=1)

    reconciler.tick()
    (stopped,) = memory_sink.events
    reply(apps["workflow-resume"], stopped)

    seen = audit.catalogued(api)
    assert audit.summary(seen)[-2:] == [
        ("CancellationForced", "CodeRun", "cleo-12", "reconciler"),
        ("WorkflowResumed", "Workflow", PLAY, "workflow-resume"),
    ]
    forced = seen[-2]
    assert (forced.type, forced.uid) == ("Warning", uid)
    assert forced.note == (
        f"Task 12, head {NEW[:12]}, epoch {epoch}: 5DLabs-Cleo's run: no ack within 30s: "
        "force-deleted with gracePeriodSeconds 10, confirmed gone. Requested by "
        f"remedy/agent-cancel: remediation push {NEW[:12]} by 5DLabs-Rex."
    )
    clock.advance(600)
    reconciler.tick()
    assert audit.events(api) == seen


def test_a_run_held_by_a_finalizer_is_forced_then_confirmed_gone(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    states: KubeRemediationStates,
) -> None:
    cancel_running_cleo(apps, custom, github)
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": ["agents.platform/pod-cleanup"]}},
    )  # fmt: skip
    clock.now = deadline_of(states, CLEO) + timedelta(seconds=1)
    for _ in range(2):
        reconciler.tick()
    [forced] = [e for e in audit.catalogued(api) if e.function == "reconciler"]
    assert forced.reason == "CancellationForced"
    assert "gracePeriodSeconds 10; waiting for its finalizers" in forced.note

    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": None}},
    )  # fmt: skip
    assert coderun(custom, "cleo-12") is None
    for _ in range(2):
        reconciler.tick()
    mine = [e for e in audit.catalogued(api) if e.function == "reconciler"]
    assert [e.reason for e in mine] == ["CancellationForced", "CancellationConfirmedGone"]
    assert "force-deleted earlier, now confirmed gone" in mine[1].note


def test_a_kept_resume_is_kept_then_resumed_by_the_reconciler_once(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    _, cancelled, labelled = drive(apps, "d-3")
    acked(apps["workflow-resume"], labelled)
    acked(apps["workflow-resume"], cancelled)  # the same decision again: no second Event
    reconciler.tick()
    assert audit.summary(audit.catalogued(api)) == [
        ("LabelsReset", "ConfigMap", "task-12-remediation-state", "label-update"),
        ("ResumeKept", "Workflow", PLAY, "workflow-resume"),
    ]
    kept = len(audit.events(api))

    suspend_at(custom, "waiting-ready-for-qa")
    for _ in range(2):
        reconciler.tick()
        clock.advance(600)

    seen = audit.catalogued(api)
    assert audit.summary(seen[kept:]) == [("WorkflowResumed", "Workflow", PLAY, "reconciler")]
    assert "waiting-ready-for-qa → waiting-pr-created, resumed" in seen[-1].note
    assert "Requested by remedy/reconciler: remediation (delivery d-3)" in seen[-1].note


def test_a_newer_remediation_kept_for_the_same_reason_is_recorded_again(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    _, _, labelled = drive(apps, "d-5")
    acked(apps["workflow-resume"], labelled)
    newer = push_event(delivery="d-6", branch=BRANCH, before=NEW, after=NEWER)
    requested = reply(apps["push-intake"], newer)
    reply(apps["agent-cancel"], requested)
    acked(apps["workflow-resume"], reply(apps["label-update"], requested))

    kept = [e for e in audit.catalogued(api) if e.reason == "ResumeKept"]
    assert len(kept) == 2, "one per remediation, though the workflow waits for the same reason"
    assert f"head {NEWER[:12]}, epoch {requested.get_data()['epoch']}" in kept[1].note


def test_stage_events_kept_resumed_dropped_or_ignored(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    reconciler: Reconciler,
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
    again = pr_event(
        "pull_request_review",
        delivery="a-2",
        review__state="approved",
        review__user__login="5DLabs-Tess[bot]",
    )
    acked(apps["workflow-resume"], again)  # kept already: no second ResumeKept
    ignored = pr_event("pull_request", delivery="o-1", action="opened")  # a passed stage
    acked(apps["workflow-resume"], ignored)
    suspend_at(custom, "waiting-pr-approved")
    reconciler.tick()
    assert audit.summary(audit.catalogued(api)) == [
        ("ResumeKept", "Workflow", PLAY, "workflow-resume"),
        ("StageResumed", "Workflow", PLAY, "reconciler"),
    ]

    state, version = states.load(12)
    assert state is not None
    state.kept_stage_resumes = [_kept("waiting-pr-created")]
    states.save(state, resource_version=version)
    reconciler.tick()
    dropped = audit.catalogued(api)[-1]
    assert (dropped.reason, dropped.function) == ("ResumeDropped", "reconciler")
    assert "already past waiting-pr-created" in dropped.note


def test_no_workflow_keeps_the_resume_on_the_state_configmap(
    apps: dict[str, Any],
    api: client.ApiClient,
    github: GitHubEmulator,
    states: KubeRemediationStates,
) -> None:
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    _, _, labelled = drive(apps, "d-4")
    acked(apps["workflow-resume"], labelled)
    kept = audit.catalogued(api)[-1]
    assert (kept.reason, kept.kind, kept.object) == (
        "ResumeKept",
        "ConfigMap",
        "task-12-remediation-state",
    )
    assert "no play workflow for the task yet: resume kept" in kept.note
    assert isinstance(states.load(12)[0], RemediationState)
