"""What the handlers decided, counted through the Tally port: each recording site, in-process.

The chain's functions (as functions-framework serves them), control-api and the
reconciler (built by the wiring, its clock moved by the test) run on the emulated
platform with real Redis, in this process, so each test reads what moved in its registry.

Covers:
- one remediation in which Tess had not started and Cleo never acknowledges: one
  remediation requested, Tess ``deleted_before_start``, Cleo asked to stop then
  ``forced`` by the reconciler, the workflow ``resumed`` once with one push-to-resume
  observation, label-update's three GitHub requests by endpoint, the rate limit GitHub
  reported, task and push-log locks taken, each step by function, type and outcome —
  and nothing else; no label value is a task id or a SHA;
- an acknowledgement through control-api: ``acknowledged`` once however often it is
  repeated, every answer counted by status (200, 401, 403, 404, 409);
- duplicates: a redelivery is ``replayed`` by the ledger and counts no remediation; the
  same push under another delivery id is a ``duplicate``; a push already replaced is
  ``superseded``, and so is the task's remediation still waiting when a newer push lands;
- a resume kept for a workflow not at its suspend point counts ``kept``, then
  ``resumed`` once the reconciler applies it; a run that went by itself is
  ``already_gone``; a stuck saga given up is ``failed``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import redis
import requests
from kubernetes import client
from werkzeug.test import Client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.events import catalogue
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.chain.test_stages import suspend_at
from tests.control import support as agent_api
from tests.metrics.samples import key, moved, of, registry, suspicious_labels, total
from tests.reconciler.conftest import BRANCH, Clock, MemorySink, drive, push, state_of
from tests.reconciler.test_sagas import DEADLINE, last_progress, start_and_lose_label_updates_input
from tests.support.events import acked, post, reply

GRACE_S = 30  # REMEDY_CANCEL_GRACE_SECONDS in the chain's environment
ROOT, OLD, NEW, NEWER = ("0" * 39 + "9"), "1" * 40, "2" * 40, "3" * 40
TOUCHED = ("remedy_remediations", "remedy_cancellation", "remedy_push_to_resume",
           "remedy_feedback", "remedy_dead_letters", "remedy_acknowledgements")  # fmt: skip


def outcomes(changed: dict[Any, float]) -> dict[Any, float]:
    """What moved among the domain's counters (steps, locks, GitHub, the ledger aside)."""
    return {k: v for k, v in changed.items() if k[0].startswith(TOUCHED)}


def rate_limit_left(url: str, token: str) -> int:
    """What GitHub says is left of the token's budget (``GET /rate_limit`` costs none)."""
    answer = requests.get(
        f"{url}/rate_limit", timeout=5, headers={"Authorization": f"token {token}"}
    )
    return int(answer.json()["resources"]["core"]["remaining"])


def seed_task(custom: client.CustomObjectsApi, github: GitHubEmulator) -> None:
    seed.coderun(custom, "rex-12", task=12, agent="5DLabs-Rex", phase="Running")
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    seed.coderun(custom, "tess-12", task=12, agent="5DLabs-Tess", phase="Pending")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", "task-12"])


def test_one_remediation_with_one_run_deleted_and_one_forced(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
) -> None:
    seed_task(custom, github)
    before = registry()
    requested, cancelled, labelled = drive(apps, "d-1")
    acked(apps["workflow-resume"], labelled)  # Cleo has not stopped
    acked(apps["workflow-resume"], cancelled)
    clock.advance(GRACE_S + 1)
    reconciler.tick()
    (stopped,) = memory_sink.of_type("agents.stopped")
    reply(apps["workflow-resume"], stopped)
    changed = moved(before, registry())

    assert outcomes(changed) == {
        key("remedy_remediations_requested_total"): 1,
        key("remedy_cancellations_total", outcome="deleted_before_start"): 1,
        key("remedy_cancellation_requests_total"): 1,
        key("remedy_cancellations_total", outcome="forced"): 1,
        key("remedy_remediations_total", outcome="resumed"): 1,
        key("remedy_push_to_resume_seconds_count", start="warm"): 1,
    }
    labels = "/repos/{owner}/{repo}/issues/{number}/labels"
    assert of(changed, "remedy_github_requests_total") == {
        (("endpoint", "/repos/{owner}/{repo}/pulls"), ("method", "GET"), ("status", "2xx")): 1,
        (("endpoint", labels + "/{name}"), ("method", "DELETE"), ("status", "2xx")): 1,
        (("endpoint", labels), ("method", "POST"), ("status", "2xx")): 1,
    }
    gauge = registry()[key("remedy_github_ratelimit_remaining", resource="core")]
    assert gauge == rate_limit_left(github.url, github.token)
    assert total(changed, "remedy_lock_acquisitions_total", lock="push-log", result="acquired") == 1
    assert total(changed, "remedy_lock_acquisitions_total", lock="task", result="acquired") >= 5
    assert total(changed, "remedy_lock_acquisitions_total", result="busy") == 0
    steps = {
        tuple(v for _, v in labels): n for labels, n in of(changed, "remedy_steps_total").items()
    }
    assert steps == {
        ("push-intake", "replied", catalogue.PUSH): 1,
        ("agent-cancel", "replied", catalogue.REMEDIATION_REQUESTED): 1,
        ("label-update", "replied", catalogue.REMEDIATION_REQUESTED): 1,
        ("workflow-resume", "acknowledged", catalogue.LABELS_UPDATED): 1,
        ("workflow-resume", "acknowledged", catalogue.AGENTS_CANCELLED): 1,
        ("workflow-resume", "replied", catalogue.AGENTS_STOPPED): 1,
    }  # (function, outcome, step): labels sorted by name
    assert suspicious_labels(registry()) == []
    assert requested and cancelled  # the chain ran as a whole


def test_an_acknowledgement_counts_once_and_every_answer_by_status(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    control: Client,
) -> None:
    seed_task(custom, github)
    drive(apps, "d-1")
    before = registry()
    cleo, as_cleo = agent_api.ack_path("cleo-12"), agent_api.auth("5DLabs-Cleo")
    answers = [
        control.post(cleo, headers=as_cleo).status_code,
        control.post(cleo, headers=as_cleo).status_code,  # a repeat writes nothing
        control.post(cleo).status_code,
        control.post(cleo, headers=agent_api.auth("5DLabs-Tess[bot]")).status_code,
        control.post(agent_api.ack_path("nobody-12"), headers=as_cleo).status_code,
        control.post(
            agent_api.ack_path("rex-12"), headers=agent_api.auth("5DLabs-Rex")
        ).status_code,
    ]
    assert answers == [200, 200, 401, 403, 404, 409]
    assert outcomes(moved(before, registry())) == {
        key("remedy_cancellations_total", outcome="acknowledged"): 1,
        key("remedy_acknowledgements_total", result="200"): 2,
        key("remedy_acknowledgements_total", result="401"): 1,
        key("remedy_acknowledgements_total", result="403"): 1,
        key("remedy_acknowledgements_total", result="404"): 1,
        key("remedy_acknowledgements_total", result="409"): 1,
    }


def test_duplicates_and_superseded_pushes(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", "task-12"])
    first = push(delivery="d-1", before=OLD, after=NEW)
    before = registry()
    requested = reply(apps["push-intake"], first)
    reply(apps["push-intake"], first)  # the broker's redelivery: replayed
    reply(apps["push-intake"], push(delivery="d-1-hook2", before=OLD, after=NEW))  # another hook
    assert (
        post(apps["push-intake"], push(delivery="d-0", before=ROOT, after=OLD)).status_code == 202
    )
    reply(apps["agent-cancel"], requested)
    newer = reply(apps["push-intake"], push(delivery="d-2", before=NEW, after=NEWER))
    reply(apps["agent-cancel"], newer)  # d-1's remediation was still owed its resume
    changed = moved(before, registry())
    assert outcomes(changed) == {
        key("remedy_remediations_requested_total"): 2,
        key("remedy_remediations_total", outcome="duplicate"): 1,
        key("remedy_remediations_total", outcome="superseded"): 2,
    }
    assert changed[key("remedy_ledger_duplicates_total", outcome="replayed")] == 1


def test_a_kept_resume_counts_kept_then_resumed_by_the_reconciler(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
) -> None:
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa", suspended=False)
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    before = registry()
    _, cancelled, labelled = drive(apps, "d-3")
    acked(apps["workflow-resume"], labelled)
    acked(apps["workflow-resume"], cancelled)  # kept already: not counted again
    kept = moved(before, registry())
    suspend_at(custom, "waiting-ready-for-qa")
    reconciler.tick()
    reconciler.tick()
    resumed = moved(before, registry())
    assert kept[key("remedy_remediations_total", outcome="kept")] == 1
    assert outcomes(resumed) == {
        key("remedy_remediations_requested_total"): 1,
        key("remedy_remediations_total", outcome="kept"): 1,
        key("remedy_remediations_total", outcome="resumed"): 1,
        key("remedy_push_to_resume_seconds_count", start="warm"): 1,
    }


def test_a_run_gone_by_itself_counts_already_gone(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
) -> None:
    seed_task(custom, github)
    drive(apps, "d-4")
    before = registry()
    custom.delete_namespaced_custom_object(*seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2],
                                           "cleo-12")  # fmt: skip
    reconciler.tick()
    assert outcomes(moved(before, registry())) == {
        key("remedy_cancellations_total", outcome="already_gone"): 1,
    }


def test_a_stuck_saga_given_up_counts_failed(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    states: KubeRemediationStates,
    redis_urls: list[str],
) -> None:
    start_and_lose_label_updates_input(apps, custom, github, "d-10")
    redis.Redis.from_url(redis_urls[0]).flushall()  # the ledger's records are gone
    before = registry()
    clock.now = last_progress(states) + DEADLINE + timedelta(seconds=1)
    reconciler.tick()
    clock.advance(3600)
    reconciler.tick()
    assert outcomes(moved(before, registry())) == {
        key("remedy_remediations_total", outcome="failed"): 1,
    }
    assert state_of(states).epoch > 0


def test_runs_held_by_finalizers_count_once_as_what_stopped_them(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
) -> None:
    seed_task(custom, github)
    for name in ("tess-12", "cleo-12"):
        finalize(custom, name, ["agents.platform/pod-cleanup"])
    before = registry()
    drive(apps, "d-5")  # Tess's deletion waits on its finalizer
    finalize(custom, "tess-12", None)  # ... which finishes
    reconciler.tick()  # Tess confirmed gone: she was deleted, she did not go by herself
    clock.advance(GRACE_S + 1)
    reconciler.tick()  # Cleo forced: her deletion waits on her finalizer
    reconciler.tick()
    finalize(custom, "cleo-12", None)
    reconciler.tick()  # Cleo confirmed gone: forced, once
    assert outcomes(moved(before, registry())) == {
        key("remedy_remediations_requested_total"): 1,
        key("remedy_cancellations_total", outcome="deleted_before_start"): 1,
        key("remedy_cancellation_requests_total"): 1,
        key("remedy_cancellations_total", outcome="forced"): 1,
    }


def finalize(custom: client.CustomObjectsApi, name: str, finalizers: list[str] | None) -> None:
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name,
        {"metadata": {"finalizers": finalizers}},
    )  # fmt: skip
