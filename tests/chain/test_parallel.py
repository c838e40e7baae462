"""label-update and agent-cancel both take "remediation requested"; workflow-resume joins them.

Covers, in every order the broker may deliver them: labels reset before agent-cancel
admitted the push (workflow-resume waits for the admission, then resumes on
``agents.cancelled``); ``agents.cancelled`` before the labels (it waits for the labels,
then resumes on ``labels.updated``); each order resumes exactly once; a push the
task's state already shows superseded costs label-update no GitHub request; label-update
finds the PR by the pushed branch when the task has no state yet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.chain.test_chain import BRANCH, NEW, NEWER, OLD, push, workflow
from tests.support.events import acked, post, reply

LATER = datetime.now(UTC) + timedelta(hours=1)


def _resumes(custom: client.CustomObjectsApi) -> int:
    nodes = workflow(custom)["status"]["nodes"].values()
    return sum(1 for n in nodes if str(n.get("message", "")).startswith("Resumed by: remedy"))


@pytest.mark.parametrize("labels_first", [True, False], ids=["labels-first", "agents-first"])
def test_whichever_of_the_two_comes_last_resumes_once(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    labels_first: bool,
) -> None:
    seed.coderun(custom, "tess-12", task=12, agent="5DLabs-Tess", phase="Pending")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    pr = seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="p-1", pushed_at=LATER)
    )
    if labels_first:
        labelled = reply(apps["label-update"], requested)
        assert seed.pr_labels(github, pr) == {"remediation-in-progress"}
        acked(apps["workflow-resume"], labelled)  # the push is not admitted yet
        cancelled = reply(apps["agent-cancel"], requested)
        resumed = reply(apps["workflow-resume"], cancelled)
    else:
        cancelled = reply(apps["agent-cancel"], requested)
        acked(apps["workflow-resume"], cancelled)  # the labels are not reset yet
        labelled = reply(apps["label-update"], requested)
        resumed = reply(apps["workflow-resume"], labelled)
    assert resumed["type"] == "dev.remedy.workflow.resumed"
    assert workflow(custom)["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    assert _resumes(custom) == 1
    version = workflow(custom)["metadata"]["resourceVersion"]
    for late in (labelled, cancelled):  # redeliveries of either: replayed, no second resume
        assert post(apps["workflow-resume"], late).status_code in (200, 202)
    assert workflow(custom)["metadata"]["resourceVersion"] == version


def test_a_push_the_state_shows_superseded_costs_no_github_request(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    newer = reply(
        apps["push-intake"], push(before=NEW, after=NEWER, delivery="p-2", pushed_at=LATER)
    )
    reply(apps["agent-cancel"], newer)
    older = CloudEvent(
        {**newer.get_attributes(), "id": "p-0:remediation.requested"},
        {
            **newer.get_data(),
            "before_sha": OLD,
            "after_sha": NEW,
            "head_sha": NEW,
            "epoch": newer.get_data()["epoch"] - 1,
        },
    )
    github.reset_stats()
    acked(apps["label-update"], older)
    assert sum(github.stats.values()) == 0


def test_without_any_state_the_pr_is_found_by_the_pushed_branch(
    apps: dict[str, Any], github: GitHubEmulator
) -> None:
    pr = seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="p-3", pushed_at=LATER)
    )
    labelled = reply(apps["label-update"], requested)
    assert labelled.get_data()["pr_number"] == pr.number
    assert seed.pr_labels(github, pr) == {"remediation-in-progress"}
