"""The chain's Events when a step is retried or its record is lost: each effect once.

Covers: label-update whose state save fails after the labels were written still records
LabelsReset (the labels did change), and its retry — which finds the writes recorded
and makes none — records no second one; a remediation resume found already applied on
the workflow (the state's record of it lost) is answered again without a second
WorkflowResumed; a PR event resuming the workflow at its stage is StageResumed from
workflow-resume, and the same event in another delivery writes nothing more.
"""

from __future__ import annotations

from typing import Any

from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.chain.test_stages import pr_event
from tests.support import audit
from tests.support.events import post, push_event, reply

BRANCH = "task-12-fix-login"
OLD, NEW = "1" * 40, "2" * 40


def test_a_retried_label_update_records_its_labels_once(
    apps: dict[str, Any],
    api: client.ApiClient,
    github: GitHubEmulator,
    kube: KubeEmulator,
) -> None:
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(
        apps["push-intake"], push_event(delivery="d-1", branch=BRANCH, before=OLD, after=NEW)
    )
    reply(apps["agent-cancel"], requested)  # the task's state exists: label-update updates it
    kube.faults.add("status", verb="update", resource="configmaps", status=500, count=1)

    assert post(apps["label-update"], requested).status_code == 503
    assert [e.reason for e in audit.catalogued(api)] == ["LabelsReset"], "the labels changed"
    github.reset_stats()
    reply(apps["label-update"], requested)

    assert sum(github.stats.values()) == 0, "the retry writes no label again"
    assert [e.reason for e in audit.catalogued(api)] == ["LabelsReset"]


def test_a_resume_found_done_on_the_workflow_is_not_recorded_again(
    apps: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(
        apps["push-intake"], push_event(delivery="d-2", branch=BRANCH, before=OLD, after=NEW)
    )
    cancelled = reply(apps["agent-cancel"], requested)  # no runs: all stopped at once
    reply(apps["label-update"], requested)
    reply(apps["workflow-resume"], cancelled)
    seen = audit.catalogued(api)
    assert [e.reason for e in seen] == ["LabelsReset", "WorkflowResumed"]

    states = KubeRemediationStates(api, namespace=seed.STATE_NS)
    state, version = states.load(12)
    assert state is not None
    state.resumed_epoch = 0  # the state's record of the resume lost
    states.save(state, resource_version=version)
    again = CloudEvent({**cancelled.get_attributes(), "id": "d-2:agents.cancelled.again"})
    again.data = cancelled.get_data()
    assert reply(apps["workflow-resume"], again)["type"] == "dev.remedy.workflow.resumed"

    assert audit.events(api) == seen


def test_a_pr_event_resuming_its_stage_is_recorded_once(
    apps: dict[str, Any], api: client.ApiClient, custom: client.CustomObjectsApi
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-pr-created")
    reply(apps["workflow-resume"], pr_event("pull_request", delivery="o-1", action="opened"))
    post(apps["workflow-resume"], pr_event("pull_request", delivery="o-2", action="opened"))

    (resumed,) = audit.catalogued(api)
    assert (resumed.reason, resumed.object, resumed.function) == (
        "StageResumed",
        "play-task-12",
        "workflow-resume",
    )
    assert "play-task-12: resumed at waiting-pr-created" in resumed.note
    assert "Requested by remedy/workflow-resume: " in resumed.note
