"""webhook-gateway, driven as functions-framework serves it, forwarding to a real HTTP sink.

Covers: every answer GitHub can get (401 bad/missing signature, 400 missing
X-GitHub-Event / X-GitHub-Delivery or non-JSON body, 413 over 25 MB by header and by
actual size, 405 for other methods, 200 for ping, 202 once the broker accepted, 5xx when
it did not or is unreachable), that every error body is JSON saying what was wrong,
that a refused request forwards nothing, secret rotation, and that the forwarded
CloudEvent follows GitHubSource's conventions (type, source, id, subject, extensions)
with GitHub's raw body byte for byte — for every real payload in the reference data.
"""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any

import pytest
from cloudevents.http import from_http

from remedy.handlers.gateway import MAX_BODY_BYTES
from remedy.local.http_server import serve_in_thread
from remedy.local.ports import free_port
from tests.conftest import REFERENCE
from tests.intake.conftest import SECRET, RecordingSink, function_app, signed_headers

Sink = tuple[RecordingSink, Any]
PUSH_BODY = json.dumps(
    {"ref": "refs/heads/main", "repository": {"full_name": "octo/hello", "name": "hello"}}
).encode()


@pytest.fixture
def client(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("K_SINK", sink[1].url)
    return function_app("webhook-gateway").test_client()


def _error(response: Any) -> str:
    body = response.get_json()
    assert set(body) == {"error", "message"} and body["message"]
    return str(body["error"])


def test_accepted_push_is_forwarded_then_202(client: Any, sink: Sink) -> None:
    response = client.post("/", data=PUSH_BODY, headers=signed_headers(PUSH_BODY, event="push"))
    assert response.status_code == 202
    assert response.get_json()["status"] == "accepted"
    [(headers, body)] = sink[0].requests
    assert body == PUSH_BODY
    assert headers["ce-type"] == "dev.knative.source.github.push"
    assert headers["ce-source"] == "https://github.com/octo/hello"
    assert headers["ce-id"] == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert headers["ce-traceparent"].startswith("00-")


@pytest.mark.parametrize(
    ("mutate", "status", "error"),
    [
        pytest.param(lambda h: h.pop("X-Hub-Signature-256"), 401, "bad_signature", id="no-sig"),
        pytest.param(
            lambda h: h.update({"X-Hub-Signature-256": "sha256=" + "0" * 64}),
            401,
            "bad_signature",
            id="bad-sig",
        ),
        pytest.param(lambda h: h.pop("X-GitHub-Event"), 400, "bad_event_header", id="no-event"),
        pytest.param(
            lambda h: h.pop("X-GitHub-Delivery"), 400, "bad_delivery_header", id="no-delivery"
        ),
        pytest.param(
            lambda h: h.update({"X-GitHub-Delivery": "../../etc"}),
            400,
            "bad_delivery_header",
            id="hostile-delivery",
        ),
    ],
)
def test_refused_requests_forward_nothing(
    client: Any, sink: Sink, mutate: Any, status: int, error: str
) -> None:
    headers = signed_headers(PUSH_BODY, event="push")
    mutate(headers)
    response = client.post("/", data=PUSH_BODY, headers=headers)
    assert response.status_code == status
    assert _error(response) == error
    assert sink[0].requests == []


@pytest.mark.parametrize("body", [b"not json", b"", b"[1, 2]"])
def test_body_that_is_not_a_json_object_is_400(client: Any, sink: Sink, body: bytes) -> None:
    response = client.post("/", data=body, headers=signed_headers(body, event="push"))
    assert response.status_code == 400
    assert _error(response) == "bad_json"
    assert sink[0].requests == []


def test_oversized_body_by_content_length_is_413_before_reading(client: Any, sink: Sink) -> None:
    """Over real HTTP: the header alone earns a 413; the server never waits for the body."""
    served = serve_in_thread(client.application)
    try:
        connection = http.client.HTTPConnection(served.host, served.port, timeout=10)
        connection.putrequest("POST", "/")
        for name, value in signed_headers(b"{}", event="push").items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert json.loads(response.read())["error"] == "payload_too_large"
        connection.close()
    finally:
        served.stop()
    assert sink[0].requests == []


def test_oversized_body_by_actual_size_is_413(client: Any, sink: Sink) -> None:
    body = b'{"pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = client.post("/", data=body, headers=signed_headers(body, event="push"))
    assert response.status_code == 413
    assert sink[0].requests == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: Any, method: str) -> None:
    response = client.open("/", method=method)
    assert response.status_code == 405
    assert response.headers["Allow"] == "POST"
    assert _error(response) == "method_not_allowed"


def test_ping_is_answered_200_and_not_forwarded(client: Any, sink: Sink) -> None:
    body = json.dumps({"zen": "Keep it logically awesome.", "hook_id": 1}).encode()
    response = client.post("/", data=body, headers=signed_headers(body, event="ping"))
    assert response.status_code == 200
    assert response.get_json()["status"] == "pong"
    assert sink[0].requests == []


@pytest.mark.parametrize("status", [500, 503, 404, 400])
def test_broker_refusal_gives_github_a_5xx(client: Any, sink: Sink, status: int) -> None:
    sink[0].status = status
    response = client.post("/", data=PUSH_BODY, headers=signed_headers(PUSH_BODY, event="push"))
    assert response.status_code == 502
    assert _error(response) == "broker_unavailable"


def test_unreachable_broker_gives_github_a_5xx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("K_SINK", f"http://127.0.0.1:{free_port()}")
    client = function_app("webhook-gateway").test_client()
    response = client.post("/", data=PUSH_BODY, headers=signed_headers(PUSH_BODY, event="push"))
    assert response.status_code == 502


def test_rotated_secrets_both_verify(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_SECRET", f"new-secret,{SECRET}")
    monkeypatch.setenv("K_SINK", sink[1].url)
    client = function_app("webhook-gateway").test_client()
    response = client.post("/", data=PUSH_BODY, headers=signed_headers(PUSH_BODY, event="push"))
    assert response.status_code == 202


EXPECTED_SUBJECTS = {
    "push": lambda p: p["compare"].rsplit("/", 1)[-1],
    "pull_request": lambda p: str(p["number"]),
    "pull_request_review": lambda p: str(p["review"]["id"]),
    "issue_comment": lambda p: p["comment"]["html_url"].rsplit("/", 1)[-1],
}


def _reference_payloads() -> list[Path]:
    return sorted((REFERENCE / "github-webhooks").glob("*.json"))


@pytest.mark.parametrize("path", _reference_payloads(), ids=lambda p: p.name)
def test_real_payloads_forward_losslessly_with_github_source_conventions(
    client: Any, sink: Sink, path: Path
) -> None:
    body = path.read_bytes()
    event_name = path.name.split("__", 1)[0]
    payload = json.loads(body)
    response = client.post("/", data=body, headers=signed_headers(body, event=event_name))
    assert response.status_code == 202, response.get_json()
    [(headers, forwarded)] = sink[0].requests
    assert forwarded == body
    event = from_http(headers, forwarded)
    assert event["type"] == f"dev.knative.source.github.{event_name}"
    assert event["source"] == f"https://github.com/{payload['repository']['full_name']}"
    assert event["subject"] == EXPECTED_SUBJECTS[event_name](payload)
    attributes = event.get_attributes()
    assert attributes["owner"] == payload["repository"]["owner"]["login"]
    assert attributes["repository"] == payload["repository"]["name"]
    assert attributes["sender"] == payload["sender"]["login"]
    if event_name == "push":
        assert attributes["ref"] == payload["ref"]
        assert attributes["pusher"] == payload["pusher"]["name"]
        assert attributes.get("deleted", "false") == str(payload["deleted"]).lower()
    else:
        assert attributes["action"] == payload["action"]
