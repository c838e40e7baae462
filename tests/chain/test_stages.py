"""Stage-aware resumes: pull request events end the play workflow's waits, once.

Covers: a PR opened from a task branch resumes a workflow suspended at
waiting-pr-created; ready-for-qa added by the quality agent resumes it at
waiting-ready-for-qa, the same label added by a person does nothing; an approval by
the QA agent that arrives before the workflow reached waiting-pr-approved is kept and
applied when it gets there (the race that made the original system drop its suspends),
exactly once; an event for a stage already passed is ignored with its reason; other
events (a changes_requested review, an unrelated label) end no wait; the stage label is
left to the template.
"""

from __future__ import annotations

import json
from typing import Any

from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, KubeWorkflows
from remedy.adapters.redis.redlock import Redlock
from remedy.handlers.common.stage_resumes import StageResumer
from remedy.handlers.common.tasks import TaskSteps
from remedy.ports import utcnow
from tests.chain import seed
from tests.chain.test_chain import workflow
from tests.conftest import REFERENCE
from tests.support.events import acked, reply

HEAD = "4" * 40


def pr_event(kind: str, *, delivery: str, **changes: Any) -> CloudEvent:
    name = {
        "pull_request": "pull_request__labeled.payload.json",
        "pull_request_review": "pull_request_review__submitted.payload.json",
    }[kind]
    payload = json.loads((REFERENCE / "github-webhooks" / name).read_text())
    payload["repository"]["full_name"] = seed.REPO
    payload["pull_request"]["head"]["ref"] = "task-12-fix-login"
    payload["pull_request"]["head"]["sha"] = HEAD
    for path, value in changes.items():
        node = payload
        *parents, leaf = path.split("__")
        for key in parents:
            node = node[key]
        node[leaf] = value
    return CloudEvent(
        {
            "type": f"dev.knative.source.github.{kind}",
            "source": f"https://github.com/{seed.REPO}",
            "id": delivery,
        },
        payload,
    )


def suspend_at(custom: client.CustomObjectsApi, stage: str) -> None:
    """The workflow moves on to ``stage`` and suspends there (as its template would)."""
    current = workflow(custom)
    current["metadata"]["labels"]["current-stage"] = stage
    current["status"]["nodes"][f"wait-{stage}"] = {
        "id": f"wait-{stage}",
        "type": "Suspend",
        "phase": "Running",
        "displayName": stage,
        "inputs": {"parameters": [{"name": "stage-name", "value": stage}]},
    }
    custom.replace_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], current["metadata"]["name"], current
    )


def suspended_stages(custom: client.CustomObjectsApi) -> set[str]:
    nodes = workflow(custom)["status"]["nodes"].values()
    return {
        n["inputs"]["parameters"][0]["value"]
        for n in nodes
        if n["type"] == "Suspend" and n["phase"] == "Running"
    }


def test_pr_opened_resumes_the_wait_for_the_pr(
    apps: dict[str, Any], custom: client.CustomObjectsApi
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-pr-created")
    resumed = reply(
        apps["workflow-resume"], pr_event("pull_request", delivery="o-1", action="opened")
    )
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"
    assert suspended_stages(custom) == set()
    assert workflow(custom)["metadata"]["labels"]["current-stage"] == "waiting-pr-created"


def test_ready_for_qa_counts_only_from_the_quality_agent(
    apps: dict[str, Any], custom: client.CustomObjectsApi
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    by_person = pr_event(
        "pull_request",
        delivery="l-1",
        action="labeled",
        label__name="ready-for-qa",
        sender__login="octocat",
    )
    acked(apps["workflow-resume"], by_person)
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}
    by_cleo = pr_event(
        "pull_request",
        delivery="l-2",
        action="labeled",
        label__name="ready-for-qa",
        sender__login="5DLabs-Cleo[bot]",
    )
    reply(apps["workflow-resume"], by_cleo)
    assert suspended_stages(custom) == set()
    again = pr_event(
        "pull_request",
        delivery="l-3",
        action="labeled",
        label__name="ready-for-qa",
        sender__login="5DLabs-Cleo",
    )
    acked(apps["workflow-resume"], again)  # once per cycle


def test_an_early_approval_is_kept_and_applied_when_the_workflow_gets_there(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    api: client.ApiClient,
    redis_urls: list[str],
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    approval = pr_event(
        "pull_request_review",
        delivery="a-1",
        review__state="approved",
        review__user__login="5DLabs-Tess[bot]",
    )
    acked(apps["workflow-resume"], approval)
    assert suspended_stages(custom) == {"waiting-ready-for-qa"}, "nothing resumed early"
    states = KubeRemediationStates(api, namespace=seed.STATE_NS)
    state, _ = states.load(12)
    assert state is not None
    assert [k.target_stage for k in state.kept_stage_resumes] == ["waiting-pr-approved"]

    # the workflow goes on (the ready-for-qa wait ends) and suspends at waiting-pr-approved
    current = workflow(custom)
    current["status"]["nodes"]["play-12-1234-wait"]["phase"] = "Succeeded"
    custom.replace_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], "play-task-12", current
    )
    suspend_at(custom, "waiting-pr-approved")

    tasks = TaskSteps(locks=Redlock.from_urls(redis_urls), states=states, clock=utcnow)
    resumer = StageResumer(KubeWorkflows(api, namespace=seed.ARGO_NS))
    for _ in range(2):  # the reconciler's passes: applied once, then nothing kept
        with tasks.open(12, seed.REPO) as task:
            results = resumer.apply_kept(task, now=utcnow())
            task.save()
    assert suspended_stages(custom) == set()
    state, _ = states.load(12)
    assert state is not None and state.kept_stage_resumes == []
    assert results == []
    assert sum("resumed at waiting-pr-approved" in e.outcome for e in state.history) == 1


def test_events_for_a_stage_already_passed_or_ending_no_wait_change_nothing(
    apps: dict[str, Any], custom: client.CustomObjectsApi, api: client.ApiClient
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-pr-approved")
    version = workflow(custom)["metadata"]["resourceVersion"]
    acked(apps["workflow-resume"], pr_event("pull_request", delivery="p-1", action="reopened"))
    acked(
        apps["workflow-resume"],
        pr_event(
            "pull_request_review",
            delivery="p-2",
            review__state="changes_requested",
            review__user__login="5DLabs-Tess",
        ),
    )
    acked(
        apps["workflow-resume"],
        pr_event(
            "pull_request",
            delivery="p-3",
            action="labeled",
            label__name="bug",
            sender__login="5DLabs-Cleo",
        ),
    )
    acked(
        apps["workflow-resume"],
        pr_event(
            "pull_request_review",
            delivery="p-4",
            review__state="approved",
            review__user__login="octocat",
        ),
    )
    assert workflow(custom)["metadata"]["resourceVersion"] == version
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None
    assert "already past waiting-pr-created" in state.history[-1].outcome
