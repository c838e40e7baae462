"""A push resets and resumes the workflow at most once; no later gate is resumed for it.

Covers, with the chain's functions and the reconciler on the emulated platform: the
issue's own sequence — a push resumes the workflow, the workflow moves on and suspends
at waiting-ready-for-qa, and meanwhile the same push arrives under other delivery ids
(another hook: replayed, no GitHub or Kubernetes request at all; after the push log was
lost: refused by the task's state) — leaves that gate suspended; a resume kept for a
head the workflow was already reset for (under another epoch) or for a head contained in
one it was reset for is dropped with its reason and no workflow write; workflow-resume
keeps nothing for such a head; a resume kept for a newer head is still applied.
"""

from __future__ import annotations

from typing import Any

import redis
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain import workflows as wf
from remedy.domain.agents import format_time
from remedy.domain.remediation import Head, KeptResume, RemediationState
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.chain.test_stages import suspend_at, suspended_stages
from tests.reconciler.conftest import (
    BRANCH,
    NEW,
    OLD,
    Clock,
    push,
    state_of,
    workflow,
)
from tests.support.events import acked, reply

E1, E2 = 1_764_752_400_000_001, 1_764_752_400_000_002
NEWER = "3" * 40


def test_the_same_push_under_other_delivery_ids_never_opens_a_later_gate(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    reconciler: Reconciler,
    states: KubeRemediationStates,
    redis_urls: list[str],
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(apps["push-intake"], push(delivery="repo-hook"))
    cancelled = reply(apps["agent-cancel"], requested)
    labelled = reply(apps["label-update"], requested)
    resumed = reply(apps["workflow-resume"], labelled)
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"
    assert wf.resumed_heads(workflow(custom)) == [NEW]
    # the workflow runs Cleo on the new head and waits at the ready-for-qa gate again
    suspend_at(custom, "waiting-ready-for-qa")

    github.reset_stats()
    kube.stats.reset()
    again = reply(apps["push-intake"], push(delivery="org-hook"))
    assert (again["id"], again.get_data()) == (requested["id"], requested.get_data())
    replayed = {
        app: reply(apps[app], event)
        for app, event in (
            ("agent-cancel", again),
            ("label-update", again),
            ("workflow-resume", labelled),
        )
    }
    assert replayed["agent-cancel"]["id"] == cancelled["id"]
    assert replayed["workflow-resume"]["id"] == resumed["id"]
    assert sum(github.stats.values()) == 0, "a duplicate costs no GitHub request"
    assert kube.stats.snapshot() == {}, "nor any Kubernetes request"

    for url in redis_urls:  # every record of the first delivery lost
        redis.Redis.from_url(url).flushall()
    lost = reply(apps["push-intake"], push(delivery="gh-source"))
    assert lost.get_data()["delivery_id"] == "gh-source", "the push log was really lost"
    acked(apps["agent-cancel"], lost)
    assert "duplicate" in state_of(states).history[-1].outcome

    reconciler.tick()
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}
    assert workflow(custom)["metadata"]["labels"]["current-stage"] == "waiting-ready-for-qa"


def _state(kept_head: str, *, heads: list[Head]) -> RemediationState:
    return RemediationState(
        task_id=12,
        repository=seed.REPO,
        epoch=E2,
        heads=heads,
        labels_epoch=E2,
        kept_resume=KeptResume(
            epoch=E2,
            head=kept_head,
            delivery="d-2",
            target_stage="waiting-pr-created",
            reason="remediation",
            kept_at=format_time(Clock().now),
        ),
    )


def _resumed_for(custom: client.CustomObjectsApi, *heads: str) -> None:
    current = workflow(custom)
    annotations = current["metadata"].setdefault("annotations", {})
    annotations[wf.EPOCH_ANNOTATION] = str(E1)
    annotations[wf.RESUMED_HEADS_ANNOTATION] = ",".join(heads)
    custom.replace_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], "play-task-12", current
    )


def _head(before: str, sha: str, epoch: int, delivery: str) -> Head:
    return Head(sha=sha, before=before, epoch=epoch, delivery=delivery, pushed_at="", ref="")


def test_a_resume_kept_for_an_already_resumed_head_is_dropped(
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    reconciler: Reconciler,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    _resumed_for(custom, NEW)
    heads = [_head(OLD, NEW, E1, "d-1"), _head(OLD, NEW, E2, "d-2")]
    states.save(_state(NEW, heads=heads), resource_version=None)
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and "already resumed for 2222222222" in report.resume
    assert kube.stats.snapshot().get("update workflows") is None
    state = state_of(states)
    assert state.kept_resume is None
    assert "nothing owed" in state.history[-1].outcome
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}


def test_a_resume_kept_for_a_head_contained_in_a_resumed_one_is_dropped(
    custom: client.CustomObjectsApi,
    reconciler: Reconciler,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    _resumed_for(custom, NEWER)
    heads = [_head(OLD, NEW, E2, "d-2"), _head(NEW, NEWER, E1, "d-3")]
    states.save(_state(NEW, heads=heads), resource_version=None)
    report = reconciler.tick().task(12)
    assert report is not None and "which contains it" in report.resume
    assert state_of(states).kept_resume is None
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}


def test_a_resume_kept_for_a_new_head_is_still_applied(
    custom: client.CustomObjectsApi,
    reconciler: Reconciler,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    _resumed_for(custom, NEW)
    heads = [_head(OLD, NEW, E1, "d-1"), _head(NEW, NEWER, E2, "d-2")]
    states.save(_state(NEWER, heads=heads), resource_version=None)
    report = reconciler.tick().task(12)
    assert report is not None and "resumed" in report.resume
    current = workflow(custom)
    assert current["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    assert wf.resumed_heads(current) == [NEW, NEWER]
    assert current["metadata"]["annotations"][wf.HEAD_ANNOTATION] == NEWER
    assert suspended_stages(custom) == set()


def test_workflow_resume_keeps_nothing_for_a_head_already_resumed(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    states: KubeRemediationStates,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    _resumed_for(custom, NEW)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(apps["push-intake"], push(delivery="d-9"))
    reply(apps["agent-cancel"], requested)
    labelled = reply(apps["label-update"], requested)
    acked(apps["workflow-resume"], labelled)
    state = state_of(states)
    assert state.kept_resume is None
    assert "nothing owed" in state.workflow_note
