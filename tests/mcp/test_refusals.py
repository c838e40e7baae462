"""control-api's refusals come back from ``remedy mcp`` as tool errors that keep them apart.

Covers: a bad token → 401, an unknown task → 404 (reading it, listing its
cancellations, waiting on them), a cancellation for a task with no remediation or of
another repository → 409, a broker that cannot take the event → 503 with its
Retry-After, an unreachable control-api → status null; each an ``isError`` result whose
text reads ``control-api answered <status> <code>: <message>`` and whose structured
content carries status, code, message and retry_after, on a session that goes on
working afterwards; arguments outside the schema (task 0, a 301 s wait, an unknown
stage) refused by the SDK's validation before any request.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.chain import seed
from tests.mcp.sessions import remedy_mcp
from tests.support import platform as platforms

pytestmark = pytest.mark.anyio

ALICE = platforms.TOKENS["operator:alice"]


async def test_a_bad_token_is_401(platform: platforms.Platform, tmp_path: Path) -> None:
    token = "nobody-has-this-token-0123456789"
    async with remedy_mcp(url=platform.control_api, token=token, cwd=tmp_path) as mcp:
        refused, said = await mcp.refusal("list_tasks")
    assert refused == {
        "status": 401, "error": "unauthorized", "message": refused["message"], "retry_after": None,
    }  # fmt: skip
    assert said.startswith("control-api answered 401 unauthorized: ")
    assert token not in said


async def test_unknown_tasks_wrong_state_and_a_busy_broker(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        unknown = [
            await mcp.refusal("get_remediation_state", task_id=77),
            await mcp.refusal("list_cancellations", task_id=77),
            await mcp.refusal("wait_for_cancellations", task_id=77, timeout_seconds=1),
        ]
        no_push, _ = await mcp.refusal("request_cancellation", task_id=77, reason="r")
        other_repo, said_409 = await mcp.refusal(
            "request_cancellation", task_id=platforms.TASK, reason="r", repository="5dlabs/other"
        )
        platform.routing().stop()
        busy, said_503 = await mcp.refusal("request_cancellation", task_id=platforms.TASK,
                                           reason="r")  # fmt: skip
        still = await mcp.answer("list_tasks", repository=seed.REPO)

    for refused, said in unknown:
        assert (refused["status"], refused["error"]) == (404, "not_found")
        assert said.startswith("control-api answered 404 not_found: task 77 has no remediation")
    assert (no_push["status"], no_push["error"]) == (409, "wrong_state")
    assert "task 77 has no remediation yet" in no_push["message"]
    assert (other_repo["status"], other_repo["error"]) == (409, "wrong_state")
    assert said_409.startswith("control-api answered 409 wrong_state: ")
    assert "belongs to 5dlabs/cto" in said_409
    assert (busy["status"], busy["error"], busy["retry_after"]) == (503, "broker_unavailable", 1)
    assert said_503.startswith("control-api answered 503 broker_unavailable: ")
    assert said_503.splitlines()[0].endswith("(retry after 1 s)")
    assert [t["task_id"] for t in still["tasks"]] == [platforms.TASK], "the session goes on"


async def test_an_unreachable_control_api(tmp_path: Path) -> None:
    async with remedy_mcp(url="http://127.0.0.1:9", token=ALICE, cwd=tmp_path) as mcp:
        refused, said = await mcp.refusal("list_tasks")
    assert (refused["status"], refused["error"]) == (None, "unreachable")
    assert said.startswith("control-api did not answer (unreachable): control-api at ")


@pytest.mark.parametrize(
    ("tool", "arguments", "complaint"),
    [
        ("get_remediation_state", {"task_id": 0}, "greater than or equal to 1"),
        ("wait_for_cancellations", {"task_id": 12, "timeout_seconds": 301}, "less than or equal"),
        ("list_tasks", {"stage": "reviewing"}, "waiting-pr-created"),
        ("request_cancellation", {"task_id": 12, "reason": ""}, "at least 1 character"),
        ("request_cancellation", {"task_id": 12}, "reason"),
    ],
)
async def test_arguments_outside_the_schema_are_refused_before_any_request(
    tmp_path: Path, tool: str, arguments: dict[str, object], complaint: str
) -> None:
    # control-api is unreachable: an answer other than the SDK's own refusal would say so
    async with remedy_mcp(url="http://127.0.0.1:9", token=ALICE, cwd=tmp_path) as mcp:
        _, said = await mcp.refusal(tool, **arguments)
    assert "control-api" not in said
    assert complaint in said
