"""control-api facing JSON it cannot parse: deep nesting is a 400, never a 500.

Covers: a cancellation request whose body nests arrays or objects 10,000 levels deep
(within the 64 KiB limit), sent over real HTTP, answers 400 ``bad_request`` saying
"nesting deeper than 200 levels", sends nothing to the broker, writes nothing (the
task state's resourceVersion is unchanged) and logs no traceback and no error; a body
nesting exactly 200 levels is read (and refused only for what it says); the
acknowledgement, which takes no body, is not thrown by one.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
import requests
from kubernetes import client

from remedy.local.http_server import ServedApp
from remedy.untrusted_json import MAX_DEPTH
from tests.control import support
from tests.intake.conftest import RecordingSink

LEVELS = 10_000


@pytest.fixture
def remediated(
    chain: dict[str, Any], custom: client.CustomObjectsApi, github: Any
) -> support.Cancelled:
    support.seed_task(custom, github, [("cleo-12", "5DLabs-Cleo", "Running")])
    return support.remediate(chain)


def _nested(levels: int, kind: str) -> bytes:
    if kind == "arrays":
        return b"[" * levels + b"]" * levels
    return b'{"a":' * levels + b"1" + b"}" * levels


def _post(served: ServedApp, path: str, body: bytes, principal: str) -> requests.Response:
    return requests.post(
        served.url + path,
        data=body,
        headers={**support.auth(principal), "Content-Type": "application/json"},
        timeout=30,
    )


@pytest.mark.parametrize("kind", ["arrays", "objects"])
def test_a_deeply_nested_request_is_400_and_changes_nothing(
    served_control: ServedApp,
    remediated: support.Cancelled,
    api: client.ApiClient,
    recorder: RecordingSink,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    version = support.state(api)[1]
    caplog.set_level(logging.INFO)
    path = f"/v1/tasks/{support.TASK}/cancellations"
    response = _post(served_control, path, _nested(LEVELS, kind), "operator:alice")
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "bad_request"
    assert f"not JSON (nesting deeper than {MAX_DEPTH} levels)" in response.json()["message"]
    assert support.sent(recorder) == []
    assert support.state(api)[1] == version
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) <= 1


def test_the_limit_is_the_nesting_not_the_size(
    served_control: ServedApp, remediated: support.Cancelled, recorder: RecordingSink
) -> None:
    path = f"/v1/tasks/{support.TASK}/cancellations"
    deepest = b'{"reason":' * MAX_DEPTH + b'"r"' + b"}" * MAX_DEPTH
    response = _post(served_control, path, deepest, "operator:alice")
    assert response.status_code == 400
    assert "reason: Input should be a valid string" in response.json()["message"]
    assert support.sent(recorder) == []


def test_the_acknowledgement_reads_no_body(
    served_control: ServedApp, remediated: support.Cancelled
) -> None:
    response = _post(
        served_control, support.ack_path("cleo-12"), _nested(LEVELS, "arrays"), "5DLabs-Cleo"
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "acknowledged"
