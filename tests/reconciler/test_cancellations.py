"""The reconciler settles cancellations: it waits out the grace, then forces; it confirms.

Covers: a running Cleo asked to stop is left alone within its grace period (the task is
not even locked); once the
deadline passed it is deleted (only it — Rex's run stays), the deletion confirmed, its
cancellation recorded ``forced`` ("no ack within 30s: force-deleted"), and
``agents.stopped`` (forced) sent at once, with which workflow-resume resumes the
workflow; a later tick does nothing more. A run with a finalizer gets one deletion with
``gracePeriodSeconds`` = REMEDY_FORCE_GRACE_SECONDS, stays "waiting for its finalizers"
without a second delete (later ticks do not even lock the task) and without an
announcement, and is recorded ``forced`` once it is really gone; a forced run stays
recorded ``forced`` when the state save after its deletion fails and the pass is
retried. A run that is already gone — deleted, or its name now holding a new run — is
recorded ``gone`` without any delete, and the new run is never touched.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.reconciler.conftest import (
    BRANCH,
    Clock,
    MemorySink,
    coderun,
    deadline_of,
    drive,
    stage,
    state_of,
    stopped_id_of,
)
from tests.support.events import acked, reply

CLEO = f"{seed.AGENT_NS}/cleo-12"


def cancel_running_cleo(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    seed.coderun(custom, "rex-12", task=12, agent="5DLabs-Rex", phase="Running")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    _, _, labelled = drive(apps, "d-1")
    acked(apps["workflow-resume"], labelled)  # Cleo has not stopped: nothing resumes yet


def test_a_run_that_never_acks_is_forced_after_its_grace_and_the_workflow_resumes(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    cancel_running_cleo(apps, custom, github)
    deadline = deadline_of(states, CLEO)

    clock.now = deadline - timedelta(seconds=1)
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do", "not even locked"
    assert coderun(custom, "cleo-12") is not None
    assert kube.stats.snapshot().get("delete coderuns") is None
    assert state_of(states).cancellations[CLEO].status == "requested"
    assert memory_sink.events == []

    clock.now = deadline + timedelta(seconds=1)
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.forced == [CLEO]
    assert coderun(custom, "cleo-12") is None
    assert coderun(custom, "rex-12") is not None
    assert kube.stats.snapshot().get("delete coderuns") == 1
    cancellation = state_of(states).cancellations[CLEO]
    assert (cancellation.status, cancellation.outcome) == (
        "forced",
        "no ack within 30s: force-deleted",
    )
    assert state_of(states).history[-1].step == "reconciler"

    (stopped,) = memory_sink.events
    assert (stopped["type"], stopped["source"], stopped["id"]) == (
        "dev.remedy.agents.stopped",
        "/remedy/reconciler",
        stopped_id_of(states, "d-1"),
    )
    assert stopped.get_data()["forced"] is True
    assert stopped.get_data()["coderuns"] == ["cleo-12"]

    resumed = reply(apps["workflow-resume"], stopped)
    assert resumed["type"] == "dev.remedy.workflow.resumed"
    assert stage(custom) == "waiting-pr-created"

    clock.advance(600)
    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert len(memory_sink.events) == 1
    assert kube.stats.snapshot().get("delete coderuns") is None


@pytest.mark.parametrize(
    "conflicts",
    [{"count": 1, "skip": 1}, {"count": 100}],
    ids=["the-save-after-the-delete", "every-save-of-the-pass"],
)
def test_a_forced_run_is_recorded_forced_even_when_the_save_after_the_delete_fails(
    conflicts: dict[str, int],
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    """The retry finds the run gone; it must know this pass deleted it, not call it gone."""
    cancel_running_cleo(apps, custom, github)
    clock.now = deadline_of(states, CLEO) + timedelta(seconds=1)
    rule = kube.faults.add("conflict", verb="update", resource="configmaps", **conflicts)
    reconciler.tick()
    assert rule.fired >= 1, "the injected conflict was hit"
    kube.faults.clear()
    report = reconciler.tick().task(12)
    assert report is not None and report.forced == [CLEO]
    cancellation = state_of(states).cancellations[CLEO]
    assert (cancellation.status, cancellation.outcome) == (
        "forced",
        "no ack within 30s: force-deleted",
    )
    assert [e["type"] for e in memory_sink.events] == ["dev.remedy.agents.stopped"]
    assert memory_sink.events[0].get_data()["forced"] is True


def test_a_run_held_by_a_finalizer_is_deleted_once_with_the_grace_period_then_confirmed(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    monkeypatch: pytest.MonkeyPatch,
    make_reconciler: Any,
) -> None:
    monkeypatch.setenv("REMEDY_FORCE_GRACE_SECONDS", "7")
    reconciler = make_reconciler()
    cancel_running_cleo(apps, custom, github)
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": ["agents.platform/pod-cleanup"]}},
    )  # fmt: skip
    clock.now = deadline_of(states, CLEO) + timedelta(seconds=1)

    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.force_pending == [CLEO]
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert kube.stats.snapshot().get("delete coderuns") == 1, "one deletion, not one per tick"
    held = coderun(custom, "cleo-12")
    assert held is not None
    assert held["metadata"]["deletionGracePeriodSeconds"] == 7
    assert held["metadata"]["deletionTimestamp"]
    cancellation = state_of(states).cancellations[CLEO]
    assert cancellation.status == "requested"
    assert "waiting for its finalizers" in cancellation.outcome
    assert memory_sink.events == [], "not stopped until the deletion is confirmed"

    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": None}},
    )  # fmt: skip
    assert coderun(custom, "cleo-12") is None
    report = reconciler.tick().task(12)
    assert report is not None and report.forced == [CLEO]
    assert state_of(states).cancellations[CLEO].status == "forced"
    assert [e["id"] for e in memory_sink.events] == [stopped_id_of(states, "d-1")]


def _delete(custom: client.CustomObjectsApi) -> None:
    custom.delete_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12"
    )


def _replace_with_a_new_run(custom: client.CustomObjectsApi) -> None:
    _delete(custom)
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running", head="f" * 40)


@pytest.mark.parametrize("past_deadline", [False, True], ids=["within-grace", "past-deadline"])
@pytest.mark.parametrize(
    "make_gone", [_delete, _replace_with_a_new_run], ids=["deleted", "name-reused"]
)
def test_a_run_already_gone_is_recorded_gone_without_a_delete(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    kube: KubeEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    make_gone: Any,
    past_deadline: bool,
) -> None:
    cancel_running_cleo(apps, custom, github)
    uid = state_of(states).cancellations[CLEO].uid
    make_gone(custom)
    offset = timedelta(seconds=5 if past_deadline else -5)
    clock.now = deadline_of(states, CLEO) + offset

    kube.stats.reset()
    report = reconciler.tick().task(12)
    assert report is not None and report.gone == [CLEO] and report.forced == []
    assert kube.stats.snapshot().get("delete coderuns") is None
    cancellation = state_of(states).cancellations[CLEO]
    assert (cancellation.status, cancellation.uid) == ("gone", uid)
    (stopped,) = memory_sink.events
    assert stopped.get_data()["forced"] is False
    current = coderun(custom, "cleo-12")
    if make_gone is _replace_with_a_new_run:
        assert current is not None and current["metadata"]["uid"] != uid, "never touched"
    else:
        assert current is None
