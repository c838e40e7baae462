"""The control-api client, against control-api served over real HTTP.

Covers: every method against the real endpoints (list with filters and a cursor, a
task, its cancellations, a cancellation request with its idempotency key, an agent's
acknowledgement, a watch followed to its ``end`` line); each refusal raised as one
exception type carrying control-api's status, code and message — 400, 401, 403, 404,
409 and 503 (with ``Retry-After``) apart — and a watch refused at the call, not on
its first line; an unreachable control-api, a non-JSON error page and a watch stream
cut before its end line; configuration from arguments, the environment or a ``remedy
up`` state file, whose operator token goes only to its own URL; the token in no
``repr`` and no error.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.tools.control_client import ControlApiError, ControlClient, NotConfigured, settings
from tests.chain import seed
from tests.control import seeding, support
from tests.intake.conftest import RecordingSink

ALICE = support.TOKENS["operator:alice"]


@pytest.fixture
def alice(served_control: ServedApp) -> Iterator[ControlClient]:
    with ControlClient(served_control.url, ALICE) as client:
        yield client


def _as(served: ServedApp, principal: str) -> ControlClient:
    return ControlClient(served.url, support.TOKENS[principal])


def test_reading_a_task(alice: ControlClient, cancelling: support.Cancelled) -> None:
    page = alice.list_tasks(repository=seed.REPO, stage="waiting-ready-for-qa", limit=1)
    assert [t["task_id"] for t in page["tasks"]] == [support.TASK]
    assert page["next_cursor"] is None
    assert alice.list_tasks(stage="completed")["tasks"] == []
    detail = alice.task(support.TASK)
    assert (detail["stage"], detail["epoch"]) == ("waiting-ready-for-qa", cancelling.epoch)
    assert detail["timeline"][0]["head"] == support.NEW
    view = alice.cancellations(support.TASK)
    assert {c["name"] for c in view["cancellations"]} == {"cleo-12", "tess-12"}
    assert view["all_stopped"] is False


def test_following_a_cursor(alice: ControlClient, cancelling: support.Cancelled, api: Any) -> None:
    seeding.save(api, seeding.state(3), seeding.state(40))
    first = alice.list_tasks(limit=2)
    assert [t["task_id"] for t in first["tasks"]] == [3, support.TASK]
    second = alice.list_tasks(limit=2, cursor=first["next_cursor"])
    assert [t["task_id"] for t in second["tasks"]] == [40]
    assert second["next_cursor"] is None


def test_requesting_and_acknowledging(
    alice: ControlClient,
    served_control: ServedApp,
    cancelling: support.Cancelled,
    recorder: RecordingSink,
) -> None:
    accepted = alice.request_cancellation(
        support.TASK, "the spec changed", repository=seed.REPO, idempotency_key="k-1"
    )
    again = alice.request_cancellation(support.TASK, "the spec changed", idempotency_key="k-1")
    assert accepted["event_id"] == again["event_id"]
    assert accepted["epoch"] == cancelling.epoch
    first, _ = support.sent(recorder)
    assert first["id"] == accepted["event_id"]
    assert first.get_data()["requested_by"] == "operator:alice"

    with _as(served_control, "5DLabs-Cleo") as cleo:
        acked = cleo.acknowledge(seed.AGENT_NS, "cleo-12")
    assert acked["status"] == "acknowledged"
    assert acked["cancellation"]["status"] == "gone"


def test_watching_to_the_end(
    alice: ControlClient, control: Client, cancelling: support.Cancelled
) -> None:
    lines = alice.watch(support.TASK, timeout=60)
    snapshot = next(lines)
    assert snapshot["type"] == "snapshot" and snapshot["all_stopped"] is False
    for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
        assert control.post(support.ack_path(name), headers=support.auth(agent)).status_code == 200
    rest = list(lines)
    assert rest[-1] == {"type": "end", "reason": "all-stopped", "task_id": support.TASK}
    assert all(line["type"] == "changed" for line in rest[:-1])
    quiet = list(alice.watch(support.TASK, timeout=0.2))
    assert [line["type"] for line in quiet] == ["snapshot", "end"]


def _refusal(call: Callable[[], Any]) -> ControlApiError:
    with pytest.raises(ControlApiError) as caught:
        call()
    return caught.value


def test_refusals_keep_controls_status_code_and_message(
    alice: ControlClient,
    served_control: ServedApp,
    cancelling: support.Cancelled,
    recorder: RecordingSink,
) -> None:
    stranger = ControlClient(served_control.url, "an-unknown-token-0123456789")
    cases = {
        400: lambda: alice.list_tasks(limit=500),
        401: lambda: stranger.task(support.TASK),
        403: lambda: alice.acknowledge(seed.AGENT_NS, "cleo-12"),
        404: lambda: alice.task(77),
        409: lambda: alice.request_cancellation(support.TASK, "r", repository="someone/else"),
    }
    codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
             409: "wrong_state"}  # fmt: skip
    for status, call in cases.items():
        error = _refusal(call)
        assert (error.status, error.code) == (status, codes[status])
        assert error.message and error.message in str(error)
    assert "limit='500'" in _refusal(cases[400]).message
    assert "operators cannot acknowledge" in _refusal(cases[403]).message

    recorder.status = 500
    busy = _refusal(lambda: alice.request_cancellation(support.TASK, "r"))
    assert (busy.status, busy.code, busy.retry_after) == (503, "broker_unavailable", 1.0)


def test_a_refused_watch_raises_at_the_call(
    alice: ControlClient, cancelling: support.Cancelled
) -> None:
    error = _refusal(lambda: alice.watch(77, timeout=1))
    assert (error.status, error.code) == (404, "not_found")
    assert _refusal(lambda: alice.watch(support.TASK, timeout=301)).status == 400


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_an_unreachable_control_api(control_env: dict[str, str]) -> None:
    client = ControlClient(f"http://127.0.0.1:{_closed_port()}", ALICE, timeout_s=2)
    error = _refusal(client.list_tasks)
    assert (error.status, error.code) == (None, "unreachable")
    assert ALICE not in str(error)


def _serve(body: bytes, status: str, content_type: str) -> ServedApp:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        start_response(status, [("Content-Type", content_type)])
        yield body

    return serve_in_thread(app)


def test_a_proxy_error_page_and_a_cut_stream() -> None:
    page = _serve(b"<html>bad gateway</html>", "502 Bad Gateway", "text/html")
    try:
        error = _refusal(lambda: ControlClient(page.url, ALICE).task(1))
    finally:
        page.stop()
    assert (error.status, error.code, error.message) == (
        502,
        "http_502",
        "<html>bad gateway</html>",
    )

    line = json.dumps({"type": "snapshot", "task_id": 1}).encode() + b"\n"
    cut = _serve(line, "200 OK", "application/x-ndjson")
    try:
        lines = ControlClient(cut.url, ALICE).watch(1, timeout=5)
        assert next(lines)["type"] == "snapshot"
        error = _refusal(lambda: next(lines))
    finally:
        cut.stop()
    assert (error.status, error.code) == (None, "stream_broken")


def _state_file(path: Path, url: str = "http://127.0.0.1:9/") -> Path:
    path.write_text(json.dumps({
        "control_api_url": url,
        "api_tokens": {"5DLabs-Cleo": "cleo-local-token", "operator:local": "local-token"},
    }))  # fmt: skip
    return path


def test_configuration_comes_from_arguments_then_environment_then_remedy_up(
    tmp_path: Path,
) -> None:
    state = _state_file(tmp_path / "state.json")
    env = {"REMEDY_CONTROL_API_URL": "http://env:1", "REMEDY_API_TOKEN": "env-token"}
    given = settings(url="http://flag:1", token="flag-token", environ=env, state_file=state)
    assert (given.url, given.token) == ("http://flag:1", "flag-token")
    from_env = settings(environ=env, state_file=state)
    assert (from_env.url, from_env.token) == ("http://env:1", "env-token")
    local = settings(environ={}, state_file=state)
    assert (local.url, local.token) == ("http://127.0.0.1:9/", "local-token"), "the operator's"
    mine = settings(environ={"REMEDY_API_TOKEN": "env-token"}, state_file=state)
    assert (mine.url, mine.token) == ("http://127.0.0.1:9/", "env-token")


def test_the_local_token_never_goes_to_another_url(tmp_path: Path) -> None:
    state = _state_file(tmp_path / "state.json")
    with pytest.raises(NotConfigured, match="no control-api token for http://elsewhere:1"):
        settings(environ={"REMEDY_CONTROL_API_URL": "http://elsewhere:1"}, state_file=state)
    with pytest.raises(NotConfigured, match="no control-api URL"):
        settings(environ={}, state_file=tmp_path / "missing.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(NotConfigured, match="cannot read"):
        settings(environ={}, state_file=tmp_path / "broken.json")
    with pytest.raises(NotConfigured, match="not http"):
        ControlClient("file:///etc/passwd", "t")


def test_the_token_is_in_no_repr(tmp_path: Path) -> None:
    state = _state_file(tmp_path / "state.json")
    found = settings(environ={}, state_file=state)
    client = ControlClient.from_environment(environ={}, state_file=state)
    assert "local-token" not in repr(found) and "local-token" not in repr(client)
