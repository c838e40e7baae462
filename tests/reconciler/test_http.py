"""The reconciler as functions-framework serves it: ping on ``/``, dead letters on ``/dead-letter``.

Covers: a PingSource event ticks — with REMEDY_CANCEL_GRACE_SECONDS=0 a running Cleo
that was asked to stop is force-deleted at once and ``agents.stopped`` reaches the
broker ingress (K_SINK) — and is answered 202 with an empty body (anything else would
be a failed delivery); another event type on ``/``, a body that is not a CloudEvent, a
GET and an unknown path get 400/400/405/404 with a message. A dead letter (binary or
structured) is answered 202 and recorded once in its task's history with the decoded
reason, however often it is delivered; one naming no task is logged at WARNING with its
reason; one whose task is locked by someone else gets 503 (so the Broker delivers it
again) and is recorded when it comes back.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.conversion import to_structured
from cloudevents.http import CloudEvent, from_http
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.adapters.redis.redlock import Redlock
from remedy.domain.identifiers import task_lock_resource
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.http_server import ServedApp, serve_in_thread
from tests.chain import seed
from tests.intake.conftest import RecordingSink, function_app
from tests.reconciler.conftest import BRANCH, coderun, drive, push, state_of, stopped_id_of
from tests.support.events import post

PING_SOURCE = "/apis/v1/namespaces/remedy/pingsources/remedy-reconcile"


@pytest.fixture
def ingress() -> Iterator[tuple[RecordingSink, ServedApp]]:
    recorder = RecordingSink()
    served = serve_in_thread(recorder)  # type: ignore[arg-type]
    yield recorder, served
    served.stop()


@pytest.fixture
def app(
    platform_env: dict[str, str],
    ingress: tuple[RecordingSink, ServedApp],
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    monkeypatch.setenv("K_SINK", ingress[1].url)
    monkeypatch.setenv("REMEDY_CANCEL_GRACE_SECONDS", "0")
    return function_app("reconciler").test_client()


def ping() -> CloudEvent:
    return CloudEvent(
        {"type": "dev.knative.sources.ping", "source": PING_SOURCE, "id": "p-1"},
        {"reason": "periodic reconcile"},
    )


def test_a_ping_ticks_and_forced_work_is_announced_through_k_sink(
    app: Any,
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    ingress: tuple[RecordingSink, ServedApp],
    states: KubeRemediationStates,
) -> None:
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    drive(apps, "d-1")

    response = post(app, ping())
    assert (response.status_code, response.get_data()) == (202, b"")
    assert coderun(custom, "cleo-12") is None
    ((headers, body),) = ingress[0].requests
    sent = from_http(headers, body)
    assert sent["type"] == "dev.remedy.agents.stopped"
    assert sent["id"] == stopped_id_of(states, "d-1")
    assert sent.get_data()["forced"] is True


def test_requests_it_cannot_take_get_a_clear_error(app: Any) -> None:
    other = push(delivery="x-1")
    response = post(app, other)
    assert response.status_code == 400
    assert "dev.knative.sources.ping" in response.get_json()["message"]
    assert app.post("/", data=b"hello", headers={"Content-Type": "text/plain"}).status_code == 400
    assert app.get("/").status_code == 405
    assert post(app, ping(), path="/elsewhere").status_code == 404


def dead_letter(*, task: str | None = "12", code: str = "400") -> CloudEvent:
    body = json.dumps({"error": "rejected", "message": "LabelsUpdated: epoch must be >= 1"})
    attributes = {
        "type": "dev.remedy.labels.updated",
        "source": "/remedy/label-update",
        "id": "d-1:labels.updated",
        "subject": f"{seed.REPO}/tasks/12",
        "correlationid": "d-1",
        "epoch": "3",
        "knativeerrordest": "http://workflow-resume.remedy.svc.cluster.local",
        "knativeerrorcode": code,
        "knativeerrordata": base64.b64encode(body.encode()).decode(),
    }
    if task is not None:
        attributes["taskid"] = task
    return CloudEvent(attributes, {"task_id": 12, "repository": seed.REPO})


def post_dead_letter(app: Any, event: CloudEvent, *, structured: bool = False) -> Any:
    if structured:
        headers, body = to_structured(event)
        return app.post("/dead-letter", data=body, headers=headers)
    return post(app, event, "/dead-letter")


@pytest.mark.parametrize("structured", [False, True], ids=["binary", "structured"])
def test_a_dead_letter_is_recorded_once_in_its_task_history_with_the_reason(
    app: Any, api: client.ApiClient, structured: bool
) -> None:
    for _ in range(2):
        response = post_dead_letter(app, dead_letter(), structured=structured)
        assert (response.status_code, response.get_data()) == (202, b"")
    states = KubeRemediationStates(api, namespace=seed.STATE_NS)
    (entry,) = [e for e in state_of(states).history if e.step == "dead-letter"]
    assert (entry.epoch, entry.delivery) == (3, "d-1")
    assert "dev.remedy.labels.updated d-1:labels.updated" in entry.outcome
    assert "workflow-resume.remedy.svc.cluster.local with 400" in entry.outcome
    assert "rejected: LabelsUpdated: epoch must be >= 1" in entry.outcome


def test_a_dead_letter_naming_no_task_is_logged_with_its_reason(
    app: Any, api: client.ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="remedy.reconciler"):
        response = post_dead_letter(app, dead_letter(task=None, code="500"))
    assert response.status_code == 202
    assert any(
        "with 500: rejected: LabelsUpdated" in r.getMessage() and r.levelno == logging.WARNING
        for r in caplog.records
    )
    assert KubeRemediationStates(api, namespace=seed.STATE_NS).task_ids() == []


def test_a_dead_letter_for_a_busy_task_is_asked_again_then_recorded(
    app: Any, api: client.ApiClient, redis_urls: list[str]
) -> None:
    locks = Redlock.from_urls(redis_urls)
    with locks.hold(task_lock_resource(12)):
        response = post_dead_letter(app, dead_letter())
        assert response.status_code == 503
        assert response.get_json()["error"] == "retry_later"
    assert post_dead_letter(app, dead_letter()).status_code == 202
    states = KubeRemediationStates(api, namespace=seed.STATE_NS)
    assert [e.step for e in state_of(states).history] == ["dead-letter"]
