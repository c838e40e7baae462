"""Requesting a task's cancellation and reading its state through control-api.

Covers: an operator or an agent POSTing a reason → 202 and a
``dev.remedy.cancellation.requested`` event on the broker (origin ``api``, the task's
epoch and newest head, who asked, the reason, source /remedy/control-api); the same
``Idempotency-Key`` giving the same event id, another key another id; a task with no
remediation yet, or another repository → 409; bodies that are not JSON, not an object,
lack a reason, carry unknown fields or a bad repository → 400; a broker that refuses the
event → 503 (the request was not taken); ``GET /v1/tasks/{id}`` → the remediation state
with its resourceVersion and its workflow's stage, 404 for a task without one; ``GET
.../cancellations`` → the cancellations with ``all_stopped``; no token → 401. None of
these writes anything. End to end: the requested event, handled by agent-cancel, asks a
running Tess run to stop (never Rex's), and Tess's acknowledgement completes it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from werkzeug.test import Client

from tests.chain import seed
from tests.control import support
from tests.intake.conftest import RecordingSink
from tests.support.events import post


@pytest.fixture
def remediated(
    chain: dict[str, Any], custom: client.CustomObjectsApi, github: Any
) -> support.Cancelled:
    support.seed_task(custom, github, [("cleo-12", "5DLabs-Cleo", "Running")])
    return support.remediate(chain)


def _request(control: Client, body: Any, principal: str = "operator:alice", **headers: str) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        data=data,
        headers={**support.auth(principal), "Content-Type": "application/json", **headers},
    )


@pytest.mark.parametrize("principal", ["operator:alice", "5DLabs-Cleo"])
def test_a_request_becomes_a_cancellation_requested_event(
    control: Client,
    remediated: support.Cancelled,
    api: client.ApiClient,
    recorder: RecordingSink,
    principal: str,
) -> None:
    version = support.state(api)[1]
    response = _request(
        control, {"reason": "the spec changed", "repository": seed.REPO}, principal=principal
    )
    assert response.status_code == 202, response.json
    [event] = support.sent(recorder)
    assert response.json == {
        "event_id": event["id"],
        "type": "dev.remedy.cancellation.requested",
        "correlation_id": event["correlationid"],
        "epoch": remediated.epoch,
    }
    assert event["source"] == "/remedy/control-api"
    assert event.get_data() == {
        "task_id": support.TASK,
        "repository": seed.REPO,
        "pr_number": remediated.labelled.get_data()["pr_number"],
        "head_sha": support.NEW,
        "correlation_id": event["correlationid"],
        "epoch": remediated.epoch,
        "reason": "the spec changed",
        "requested_by": principal,
        "origin": "api",
    }
    assert support.state(api)[1] == version, "control-api cancels nothing itself"


def test_the_idempotency_key_fixes_the_event_id(
    control: Client, remediated: support.Cancelled, recorder: RecordingSink
) -> None:
    ids = [
        _request(control, {"reason": "r"}, **{"Idempotency-Key": key}).json["event_id"]
        for key in ("k-1", "k-1", "k-2")
    ]
    assert ids[0] == ids[1] != ids[2]
    assert ids[0] == f"api:{support.TASK}:k-1:cancellation.requested"
    assert _request(control, {"reason": "r"}).json["event_id"] not in ids
    bad = _request(control, {"reason": "r"}, **{"Idempotency-Key": "no spaces"})
    assert bad.status_code == 400


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (b"{not json", "not JSON"),
        (b"", "must be a JSON object"),
        (["reason"], "must be a JSON object"),
        ({}, "reason: Field required"),
        ({"reason": ""}, "reason: String should have at least 1 character"),
        ({"reason": "x" * 501}, "reason: String should have at most 500 characters"),
        ({"reason": "r", "force": True}, "force: Extra inputs are not permitted"),
        ({"reason": "r", "repository": "no-slash"}, "not a valid GitHub 'owner/name'"),
    ],
)
def test_bad_bodies_are_400(
    control: Client,
    remediated: support.Cancelled,
    recorder: RecordingSink,
    body: Any,
    complaint: str,
) -> None:
    response = _request(control, body)
    assert response.status_code == 400, response.json
    assert complaint in response.json["message"]
    assert support.sent(recorder) == []


def test_wrong_state_is_409(
    control: Client, remediated: support.Cancelled, recorder: RecordingSink
) -> None:
    other_repo = _request(control, {"reason": "r", "repository": "5dlabs/other"})
    assert other_repo.status_code == 409
    assert "belongs to 5dlabs/cto" in other_repo.json["message"]
    unknown = control.post(
        "/v1/tasks/77/cancellations", json={"reason": "r"}, headers=support.auth("operator:alice")
    )
    assert unknown.status_code == 409
    assert unknown.json["error"] == "wrong_state"
    assert "task 77 has no remediation yet" in unknown.json["message"]
    assert support.sent(recorder) == []


def test_a_refusing_broker_is_503(
    control: Client, remediated: support.Cancelled, recorder: RecordingSink
) -> None:
    recorder.status = 500
    response = _request(control, {"reason": "r"})
    assert response.status_code == 503
    assert response.json["error"] == "broker_unavailable"
    assert response.headers["Retry-After"] == "1"


def test_get_the_state(
    control: Client, remediated: support.Cancelled, api: client.ApiClient
) -> None:
    state, version = support.state(api)
    response = control.get(f"/v1/tasks/{support.TASK}", headers=support.auth("5DLabs-Rex"))
    assert response.status_code == 200
    assert response.json == {
        **state.model_dump(mode="json"),
        "resource_version": version,
        "stage": "waiting-ready-for-qa",
        "timeline": response.json["timeline"],  # tests/control/test_task_detail.py
    }
    assert response.json["cancellations"][f"{seed.AGENT_NS}/cleo-12"]["status"] == "requested"
    missing = control.get("/v1/tasks/77", headers=support.auth("5DLabs-Rex"))
    assert missing.status_code == 404
    assert missing.json == {"error": "not_found", "message": "task 77 has no remediation state"}
    assert control.get(f"/v1/tasks/{support.TASK}").status_code == 401


def test_get_the_cancellations(control: Client, remediated: support.Cancelled) -> None:
    response = control.get(
        f"/v1/tasks/{support.TASK}/cancellations", headers=support.auth("operator:alice")
    )
    assert response.status_code == 200
    assert response.json["task_id"] == support.TASK
    assert response.json["epoch"] == remediated.epoch
    assert response.json["all_stopped"] is False
    [cleo] = response.json["cancellations"]
    assert (cleo["name"], cleo["status"], cleo["agent"]) == ("cleo-12", "requested", "5DLabs-Cleo")
    missing = control.get("/v1/tasks/77/cancellations", headers=support.auth("operator:alice"))
    assert missing.status_code == 404


def test_a_request_cancels_through_agent_cancel_and_the_agent_acknowledges(
    control: Client,
    remediated: support.Cancelled,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    recorder: RecordingSink,
) -> None:
    seed.coderun(custom, "tess-12-b", task=support.TASK, agent="5DLabs-Tess", phase="Running")
    seed.coderun(custom, "rex-12-b", task=support.TASK, agent="5DLabs-Rex", phase="Running")
    response = _request(control, {"reason": "stop reviewing, the spec changed"})
    assert response.status_code == 202
    [event] = support.sent(recorder)
    assert post(chain["agent-cancel"], event).status_code == 202

    asked = support.coderun(custom, "tess-12-b")
    assert asked is not None
    assert asked["metadata"]["annotations"]["remedy.dev/cancel-epoch"] == str(remediated.epoch)
    rex = support.coderun(custom, "rex-12-b")
    assert rex is not None and "remedy.dev/cancel-epoch" not in rex["metadata"]["annotations"]

    acked = control.post(support.ack_path("tess-12-b"), headers=support.auth("5DLabs-Tess[bot]"))
    assert acked.status_code == 200, acked.json
    assert support.coderun(custom, "tess-12-b") is None
    recorded = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/tess-12-b"]
    assert recorded.status == "gone"
