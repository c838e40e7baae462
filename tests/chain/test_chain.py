"""The remediation chain, function by function, on the emulated platform.

Covers: agent-cancel stops exactly the obsolete review work — a not-yet-started Tess
run deleted at once (and confirmed gone), a running Cleo run asked to stop with the
cancellation request annotations — and never touches Rex's run, another task's run, a
finished run, a run already on the pushed head or a newer one, or a run created after
the push; label-update resets the PR labels in one read and two writes, remembers the
PR, and makes no request for a duplicate; workflow-resume waits while an agent has not
stopped, and otherwise moves the workflow to waiting-pr-created and resumes it the
``argo resume`` way, once; a workflow not at its suspend point keeps the resume; a
missing PR and a missing workflow are recorded, not crashes; a push that a known later
push replaced changes nothing.
"""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.adapters.redis.redlock import Redlock
from remedy.domain import agents
from remedy.domain.identifiers import task_lock_resource
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.support.events import acked, post, push_event, reply
from tests.support.waiting import eventually

OLD = "1" * 40
NEW = "2" * 40
NEWER = "3" * 40
BRANCH = "task-12-fix-login"


def push(*, before: str, after: str, delivery: str, pushed_at: datetime) -> CloudEvent:
    return push_event(
        delivery=delivery, branch=BRANCH, before=before, after=after, pushed_at=pushed_at
    )


def coderun_names(custom: client.CustomObjectsApi) -> set[str]:
    items = custom.list_namespaced_custom_object(*seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2])
    return {item["metadata"]["name"] for item in items["items"]}


def annotations_of(custom: client.CustomObjectsApi, name: str) -> dict[str, str]:
    obj = custom.get_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name
    )
    return dict(obj["metadata"].get("annotations") or {})


def workflow(custom: client.CustomObjectsApi, task: int = 12) -> dict[str, Any]:
    return dict(
        custom.get_namespaced_custom_object(
            *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], f"play-task-{task}"
        )
    )


def test_the_chain_stops_only_obsolete_work_resets_labels_and_resumes(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    for name, agent, phase, head in [
        ("rex-12", "5DLabs-Rex", "Running", None),
        ("cleo-12", "5DLabs-Cleo", "Running", None),
        ("tess-12", "5DLabs-Tess", "Pending", None),
        ("tess-12-done", "5DLabs-Tess", "Succeeded", None),
        ("cleo-12-new-head", "5DLabs-Cleo", "Running", NEW),
    ]:
        seed.coderun(custom, name, task=12, agent=agent, phase=phase, head=head)
    seed.coderun(custom, "cleo-13", task=13, agent="5DLabs-Cleo", phase="Running")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    pr = seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", "task-12"])
    later = datetime.now(UTC) + timedelta(hours=1)  # every seeded run predates the push

    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="d-1", pushed_at=later)
    )
    cancelled = reply(apps["agent-cancel"], requested)

    outcomes = {o["coderun"]: o["action"] for o in cancelled.get_data()["outcomes"]}
    assert outcomes == {
        "rex-12": "kept",
        "cleo-12": "cancel-requested",
        "tess-12": "deleted",
        "tess-12-done": "kept",
        "cleo-12-new-head": "kept",
    }
    assert cancelled.get_data()["all_stopped"] is False
    assert coderun_names(custom) == {
        "rex-12",
        "cleo-12",
        "tess-12-done",
        "cleo-12-new-head",
        "cleo-13",
    }
    asked = annotations_of(custom, "cleo-12")
    assert asked[agents.CANCEL_EPOCH] == str(requested.get_data()["epoch"])
    assert asked[agents.CANCEL_FOR_HEAD] == NEW
    assert asked[agents.CANCEL_REQUESTED_BY] == "remedy/agent-cancel"
    for untouched in ("rex-12", "cleo-12-new-head", "cleo-13", "tess-12-done"):
        assert agents.CANCEL_REQUESTED_AT not in annotations_of(custom, untouched)

    github.reset_stats()
    labelled = reply(apps["label-update"], requested)
    assert seed.pr_labels(github, pr) == {"task-12", "remediation-in-progress"}
    assert labelled.get_data()["github_requests"] == 3
    assert sum(github.stats.values()) == 3
    assert labelled.get_data()["pr_number"] == pr.number

    github.reset_stats()
    assert reply(apps["label-update"], requested).get_data() == labelled.get_data()
    assert sum(github.stats.values()) == 0, "a duplicate makes no GitHub request"

    acked(apps["workflow-resume"], labelled)  # Cleo has not stopped yet
    assert workflow(custom)["metadata"]["labels"]["current-stage"] == "waiting-ready-for-qa"


def test_resume_when_every_cancelled_agent_is_stopped(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    seed.coderun(custom, "tess-12", task=12, agent="5DLabs-Tess", phase="Pending")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    later = datetime.now(UTC) + timedelta(hours=1)
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="d-2", pushed_at=later)
    )
    cancelled = reply(apps["agent-cancel"], requested)
    assert cancelled.get_data()["all_stopped"] is True
    labelled = reply(apps["label-update"], requested)
    resumed = reply(apps["workflow-resume"], labelled)

    assert resumed["type"] == "dev.remedy.workflow.resumed"
    assert resumed.get_data()["from_stage"] == "waiting-ready-for-qa"
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"
    current = workflow(custom)
    assert current["metadata"]["labels"]["current-stage"] == "waiting-pr-created"
    assert current["metadata"]["labels"]["previous-stage"] == "waiting-ready-for-qa"
    assert current["metadata"]["annotations"]["remedy.dev/epoch"] == str(
        requested.get_data()["epoch"]
    )
    node = current["status"]["nodes"]["play-12-1234-wait"]
    assert node["phase"] == "Succeeded"
    epoch = requested.get_data()["epoch"]
    assert node["message"] == f"Resumed by: remedy (remediation, epoch {epoch})"
    assert node["finishedAt"]
    assert "suspend" not in current["spec"]

    # the same event again, or the other trigger for the same epoch: no second resume
    version = current["metadata"]["resourceVersion"]
    assert reply(apps["workflow-resume"], labelled).get_data() == resumed.get_data()
    stopped = copy.deepcopy(labelled)
    stopped["type"] = "dev.remedy.agents.stopped"
    stopped["id"] = "d-2:agents.stopped"
    stopped.data = {k: v for k, v in labelled.get_data().items() if k in _ENVELOPE}
    acked(apps["workflow-resume"], stopped)
    assert workflow(custom)["metadata"]["resourceVersion"] == version


_ENVELOPE = {"task_id", "repository", "pr_number", "head_sha", "correlation_id", "epoch"}


def test_a_workflow_not_yet_suspended_keeps_the_resume(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    api: client.ApiClient,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    later = datetime.now(UTC) + timedelta(hours=1)
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="d-3", pushed_at=later)
    )
    reply(apps["agent-cancel"], requested)
    labelled = reply(apps["label-update"], requested)
    acked(apps["workflow-resume"], labelled)
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None and state.kept_resume is not None
    assert state.kept_resume.epoch == requested.get_data()["epoch"]
    assert "not at a suspend point" in state.workflow_note
    assert workflow(custom)["metadata"]["labels"]["current-stage"] == "waiting-ready-for-qa"


def test_missing_pr_and_missing_workflow_are_recorded(
    apps: dict[str, Any], api: client.ApiClient, github: GitHubEmulator
) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="d-4", pushed_at=later)
    )
    reply(apps["agent-cancel"], requested)
    labelled = reply(apps["label-update"], requested)
    assert labelled.get_data()["pr_number"] is None
    acked(apps["workflow-resume"], labelled)
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None
    assert "no open pull request" in state.labels_note
    assert "no play workflow" in state.workflow_note
    assert state.kept_resume is not None, "the resume waits for the workflow to appear"


def test_a_push_already_replaced_changes_nothing(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    api: client.ApiClient,
    redis_urls: list[str],
) -> None:
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    later = datetime.now(UTC) + timedelta(hours=1)
    newer = reply(
        apps["push-intake"], push(before=NEW, after=NEWER, delivery="d-5", pushed_at=later)
    )
    # the replaced push even claims a later push time: only the branch's own
    # before → after chain can tell that it is the older push
    replaced = push(before=OLD, after=NEW, delivery="d-6", pushed_at=later + timedelta(seconds=5))
    acked(apps["push-intake"], replaced)
    # were push-intake's push log lost (every Redis master flushed), it would take the
    # replaced push in with a later epoch; agent-cancel applies the same rule
    for url in redis_urls:
        redis.Redis.from_url(url).flushall()
    older = reply(apps["push-intake"], replaced)
    assert older.get_data()["epoch"] > newer.get_data()["epoch"]
    reply(apps["agent-cancel"], newer)
    before = annotations_of(custom, "cleo-12")
    acked(apps["agent-cancel"], older)
    assert annotations_of(custom, "cleo-12") == before
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None and state.epoch == newer.get_data()["epoch"]
    assert "was already replaced by" in state.history[-1].outcome


def test_an_epoch_issued_twice_after_a_lost_push_log_is_refused(
    apps: dict[str, Any], redis_urls: list[str]
) -> None:
    """Every master lost its data: a fresh log counts from 1 again in the same second."""
    at = datetime.now(UTC) + timedelta(hours=1)
    first = reply(apps["push-intake"], push(before=OLD, after=NEW, delivery="d-7", pushed_at=at))
    reply(apps["agent-cancel"], first)
    for url in redis_urls:
        redis.Redis.from_url(url).flushall()
    other = reply(
        apps["push-intake"], push(before=NEWER, after="9" * 40, delivery="d-8", pushed_at=at)
    )
    assert other.get_data()["epoch"] == first.get_data()["epoch"]
    response = post(apps["agent-cancel"], other)
    assert response.status_code == 400
    assert "was issued to" in response.get_data(as_text=True)


def test_a_cancellation_request_stops_every_unfinished_downstream_run(
    apps: dict[str, Any], custom: client.CustomObjectsApi, api: client.ApiClient
) -> None:
    """A person's or agent's request (via control-api) stops review work whatever its
    head, never Rex's, and resets nothing else."""
    seed.coderun(custom, "rex-12", task=12, agent="5DLabs-Rex", phase="Running")
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running", head=NEW)
    seed.coderun(custom, "tess-12", task=12, agent="5DLabs-Tess", phase="Pending")
    request = CloudEvent(
        {
            "type": "dev.remedy.cancellation.requested",
            "source": "/remedy/control-api",
            "id": "api-1:cancellation.requested",
        },
        {
            "task_id": 12,
            "repository": seed.REPO,
            "head_sha": NEW,
            "correlation_id": "api-1",
            "epoch": 1,
            "reason": "operator asked",
            "requested_by": "operator:alice",
            "origin": "api",
        },
    )
    acked(apps["agent-cancel"], request)
    acked(apps["agent-cancel"], request)  # a duplicate: replayed, nothing more
    assert coderun_names(custom) == {"rex-12", "cleo-12"}
    assert annotations_of(custom, "cleo-12")[agents.CANCEL_REQUESTED_BY] == "operator:alice"
    assert agents.CANCEL_REQUESTED_AT not in annotations_of(custom, "rex-12")
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None
    assert [e.outcome for e in state.history] == [
        "2 cancelled at the request of operator:alice (api)"
    ]


def test_a_github_rate_limit_answers_retry_later_with_its_wait(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    """GitHub's secondary limit (Retry-After 60) is passed on: 503 + Retry-After, so the
    broker comes back later, and nothing is recorded as done."""
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    later = datetime.now(UTC) + timedelta(hours=1)
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="rl-1", pushed_at=later)
    )
    reply(apps["agent-cancel"], requested)
    github.secondary.trip(count=1, status=403, retry_after=60)
    response = post(apps["label-update"], requested)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"


def test_label_update_calls_github_while_another_step_holds_the_task_lock(
    apps: dict[str, Any],
    api: client.ApiClient,
    github: GitHubEmulator,
    kube: KubeEmulator,
    redis_urls: list[str],
) -> None:
    """The label reset does its GitHub calls while another step holds the task's lock
    (an agent's ack, say) and records them under the lock once it is free; when that
    record fails, the retried delivery makes no GitHub request again."""
    pr = seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", "task-12"])
    later = datetime.now(UTC) + timedelta(hours=1)
    requested = reply(
        apps["push-intake"], push(before=OLD, after=NEW, delivery="d-lk", pushed_at=later)
    )
    reply(apps["agent-cancel"], requested)
    locks = Redlock.from_urls(redis_urls)
    held = locks.acquire(task_lock_resource(12), timeout_s=0)
    kube.faults.add("status", status=503, verb="update", resource="configmaps", count=1)
    github.reset_stats()
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(post, apps["label-update"], requested)
        eventually(lambda: sum(github.stats.values()) == 3)
        assert seed.pr_labels(github, pr) == {"task-12", "remediation-in-progress"}
        assert not first.done(), "it waits for the lock only to record what it did"
        assert locks.release(held), "the lock stayed ours throughout"
        assert first.result().status_code == 503, "the record's save failed: retry later"
    labelled = reply(apps["label-update"], requested)
    assert sum(github.stats.values()) == 3, "the retry made no GitHub request"
    state, _ = KubeRemediationStates(api, namespace=seed.STATE_NS).load(12)
    assert state is not None
    assert state.labels_epoch == labelled.get_data()["epoch"] == requested.get_data()["epoch"]
    assert state.pr_number == pr.number
    assert state.history[-1].step == "label-update"
