"""webhook-gateway's bodies: GitHub's two content types, and JSON it cannot parse.

Covers:
- a form-encoded webhook (``application/x-www-form-urlencoded``, the JSON in the
  ``payload`` field) is verified over the raw form body and forwarded as exactly the
  same CloudEvent as the JSON webhook carrying that payload — data bytes, content type
  and every attribute but the fresh traceparent and time — for every real payload in the
  reference data, non-ASCII text included; a ping arrives either way;
- a signature over anything but the raw form body (e.g. over the payload alone) → 401;
- form bodies without a ``payload`` field, with two, or whose payload is not a JSON
  object → 400 naming the problem;
- other content types → 415 naming the two accepted ones (with ``Accept-Post``); no
  Content-Type is read as JSON, parameters (``; charset=utf-8``) are ignored;
- a signed body (JSON or form payload) nesting arrays or objects 100,000 levels deep →
  400 "not JSON: nesting deeper than 200 levels" over real HTTP, with nothing forwarded
  and no traceback or error in the log; 200 levels still pass, 201 do not.
Every refused request forwards nothing.
"""

from __future__ import annotations

import json
import logging
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests

from remedy.local.http_server import serve_in_thread
from remedy.untrusted_json import MAX_DEPTH
from tests.conftest import REFERENCE
from tests.intake.conftest import SECRET, RecordingSink, function_app, signed_headers

Sink = tuple[RecordingSink, Any]
FORM = "application/x-www-form-urlencoded"
PUSH = {"ref": "refs/heads/main", "repository": {"full_name": "octo/hello", "name": "hello"}}
PUSH_BODY = json.dumps(PUSH).encode()


@pytest.fixture
def client(sink: Sink, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("K_SINK", sink[1].url)
    return function_app("webhook-gateway").test_client()


def _form(*fields: tuple[str, str]) -> bytes:
    return urllib.parse.urlencode(fields).encode("ascii")


def _post(client: Any, body: bytes, content_type: str | None, event: str = "push") -> Any:
    headers = signed_headers(body, event=event)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    return client.post("/", data=body, headers=headers)


def _refusal(response: Any, status: int, error: str) -> str:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"] == error, body
    return str(body["message"])


def _stable(headers: dict[str, str]) -> dict[str, str]:
    """The forwarded headers but those that differ between any two forwards."""
    return {k: v for k, v in headers.items() if k not in ("ce-traceparent", "ce-time")}


@pytest.mark.parametrize(
    "path",
    sorted((REFERENCE / "github-webhooks").glob("*.json")),
    ids=lambda p: p.name,
)
def test_a_form_webhook_is_forwarded_as_the_json_one_is(
    client: Any, sink: Sink, path: Path
) -> None:
    body = path.read_bytes()
    event = path.name.split("__", 1)[0]
    assert _post(client, body, "application/json", event).status_code == 202
    form = _form(("payload", body.decode("utf-8")))
    assert form != body
    assert _post(client, form, FORM, event).status_code == 202
    [(as_json, json_data), (as_form, form_data)] = sink[0].requests
    assert form_data == json_data == body
    assert as_form["content-type"] == "application/json"
    assert _stable(as_form) == _stable(as_json)


def test_non_ascii_payloads_keep_their_bytes(client: Any, sink: Sink) -> None:
    body = json.dumps({**PUSH, "head_commit": {"message": "café ✓ 🚀"}}, ensure_ascii=False)
    assert _post(client, _form(("payload", body), ("extra", "x")), FORM).status_code == 202
    [(_, forwarded)] = sink[0].requests
    assert forwarded == body.encode("utf-8")


def test_a_form_ping_is_answered(client: Any, sink: Sink) -> None:
    form = _form(("payload", json.dumps({"zen": "Design for failure.", "hook_id": 7})))
    response = _post(client, form, FORM, event="ping")
    assert response.status_code == 200
    assert response.get_json() == {"status": "pong", "zen": "Design for failure."}
    assert sink[0].requests == []


def test_the_signature_covers_the_raw_form_body(client: Any, sink: Sink) -> None:
    form = _form(("payload", PUSH_BODY.decode()))
    headers = {
        **signed_headers(PUSH_BODY, event="push"),  # signed over the payload, not the body
        "Content-Type": FORM,
    }
    response = client.post("/", data=form, headers=headers)
    assert "X-Hub-Signature-256" in _refusal(response, 401, "bad_signature")
    assert sink[0].requests == []


@pytest.mark.parametrize(
    ("form", "error", "complaint"),
    [
        (b"", "bad_form", "no payload field"),
        (_form(("other", "{}")), "bad_form", "no payload field"),
        (_form(("payload", "{}"), ("payload", "{}")), "bad_form", "more than one payload"),
        (_form(("payload", "{not json")), "bad_json", "the payload field is not JSON"),
        (_form(("payload", "")), "bad_json", "the payload field is not JSON"),
        (_form(("payload", "[1, 2]")), "bad_json", "not an object"),
        (PUSH_BODY, "bad_form", "no payload field"),  # JSON labelled as a form
    ],
)
def test_bad_form_bodies_are_400(
    client: Any, sink: Sink, form: bytes, error: str, complaint: str
) -> None:
    assert complaint in _refusal(_post(client, form, FORM), 400, error)
    assert sink[0].requests == []


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"]
)
def test_other_content_types_are_415(client: Any, sink: Sink, content_type: str) -> None:
    response = _post(client, PUSH_BODY, content_type)
    message = _refusal(response, 415, "unsupported_media_type")
    assert "application/json" in message and FORM in message
    assert response.headers["Accept-Post"] == f"application/json, {FORM}"
    assert sink[0].requests == []


@pytest.mark.parametrize("content_type", [None, "application/json; charset=utf-8"])
def test_json_without_or_with_parameters_is_json(
    client: Any, sink: Sink, content_type: str | None
) -> None:
    assert _post(client, PUSH_BODY, content_type).status_code == 202
    [(headers, forwarded)] = sink[0].requests
    assert forwarded == PUSH_BODY
    assert headers["content-type"] == "application/json"


def _nested(depth: int, kind: str) -> str:
    """A push payload whose ``deep`` member nests ``depth`` levels (the payload is one)."""
    inner = depth - 1
    deep = "[" * inner + "]" * inner if kind == "arrays" else '{"a":' * inner + "1" + "}" * inner
    return json.dumps(PUSH)[:-1] + f', "deep": {deep}}}'


@pytest.mark.parametrize("kind", ["arrays", "objects"])
@pytest.mark.parametrize("content_type", ["application/json", FORM])
def test_deep_nesting_is_400_over_http_without_a_traceback(
    client: Any,
    sink: Sink,
    caplog: pytest.LogCaptureFixture,
    kind: str,
    content_type: str,
) -> None:
    document = _nested(100_000, kind)
    body = document.encode() if content_type != FORM else _form(("payload", document))
    served = serve_in_thread(client.application)
    caplog.set_level(logging.INFO)
    try:
        response = requests.post(
            served.url,
            data=body,
            headers={**signed_headers(body, event="push"), "Content-Type": content_type},
            timeout=30,
        )
    finally:
        served.stop()
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_json"
    assert f"not JSON: nesting deeper than {MAX_DEPTH} levels" in response.json()["message"]
    assert sink[0].requests == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1


@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_the_depth_limit_is_exact(client: Any, sink: Sink, kind: str) -> None:
    deepest = _nested(MAX_DEPTH, kind).encode()
    assert _post(client, deepest, "application/json").status_code == 202
    [(_, forwarded)] = sink[0].requests
    assert forwarded == deepest
    too_deep = _nested(MAX_DEPTH + 1, kind).encode()
    assert "nesting deeper" in _refusal(
        _post(client, too_deep, "application/json"), 400, "bad_json"
    )
    assert len(sink[0].requests) == 1
