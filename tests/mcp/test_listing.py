"""What an agent runtime sees when it lists ``remedy mcp``'s tools, and the reading tools.

Covers: the six tools listed over stdio by the SDK's own client, each with a
description an LLM can act on, an input schema whose every parameter is typed and
described (required ones marked, bounds and enumerations where control-api has them),
an output schema, and read-only hints on the tools that change nothing; the server's
instructions; ``list_tasks``, ``get_remediation_state`` and ``list_cancellations``
returning control-api's JSON as structured content (validated by the client against
the output schema) plus text; nothing but the protocol on stdout, logs on stderr, no
token in them; the stage enumeration being the domain's stages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from remedy.domain.stages import Stage
from remedy.tools.mcp import tools
from tests.chain import seed
from tests.mcp.sessions import remedy_mcp, text
from tests.support import platform as platforms

pytestmark = pytest.mark.anyio

ALICE = platforms.TOKENS["operator:alice"]
TOOLS = {
    "request_cancellation": ({"task_id", "reason"}, {"repository", "idempotency_key"}),
    "acknowledge_cancellation": ({"namespace", "name"}, set()),
    "get_remediation_state": ({"task_id"}, set()),
    "list_cancellations": ({"task_id"}, set()),
    "list_tasks": (set(), {"repository", "stage", "limit", "cursor"}),
    "wait_for_cancellations": ({"task_id", "timeout_seconds"}, set()),
}


async def test_the_tools_are_listed_with_schemas_and_descriptions(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        listed = {tool.name: tool for tool in (await mcp.client.list_tools()).tools}
        instructions = mcp.client.instructions
    assert set(listed) == set(TOOLS)
    for name, (required, optional) in TOOLS.items():
        tool = listed[name]
        schema = tool.input_schema
        assert set(schema["properties"]) == required | optional, name
        assert set(schema.get("required", [])) == required, name
        for parameter, spec in schema["properties"].items():
            assert spec.get("description"), f"{name}.{parameter} has no description"
            assert "type" in spec or "anyOf" in spec, f"{name}.{parameter} is untyped"
        assert tool.description and len(tool.description) > 200, name
        assert tool.output_schema and tool.output_schema["type"] == "object", name
        assert tool.annotations is not None and tool.annotations.title, name
        changes = name in ("request_cancellation", "acknowledge_cancellation")
        assert tool.annotations.read_only_hint is not changes, name
    task_id = listed["get_remediation_state"].input_schema["properties"]["task_id"]
    assert (task_id["type"], task_id["minimum"], task_id["maximum"]) == ("integer", 1, 1_000_000)
    stage = listed["list_tasks"].input_schema["properties"]["stage"]["anyOf"][0]
    assert stage["enum"] == [str(s) for s in Stage]
    acknowledging = listed["acknowledge_cancellation"].description or ""
    assert "remedy.dev/cancel-requested-at" in acknowledging and "403" in acknowledging
    assert instructions and "acknowledge_cancellation" in instructions


def test_the_stage_enumeration_is_the_domains() -> None:
    assert list(tools.Stage.__args__) == [str(s) for s in Stage]


async def test_reading_tools_return_control_apis_json(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    platform.review_run("cleo-12", "5DLabs-Cleo", ack_delay=None)
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        page = await mcp.answer("list_tasks", repository=seed.REPO)
        detail_result = await mcp.call("get_remediation_state", task_id=platforms.TASK)
        cancellations = await mcp.answer("list_cancellations", task_id=platforms.TASK)
        other = await mcp.answer("list_tasks", stage="completed")
        stray = mcp.stray
        log = mcp.log()
    state = platform.state()
    assert state is not None
    [task] = page["tasks"]
    assert (task["task_id"], task["repository"], task["epoch"]) == (12, seed.REPO, state.epoch)
    assert task["stage"] and task["head"] == platforms.NEW
    assert page["next_cursor"] is None and other == {"tasks": [], "next_cursor": None}

    detail: Any = detail_result.structured_content
    assert (detail["task_id"], detail["branch"], detail["epoch"]) == (12, state.branch, state.epoch)
    assert detail["timeline"][0]["head"] == platforms.NEW
    assert detail["resource_version"] and "heads" in detail, "control-api's JSON, whole"
    summary, as_json = [block.text for block in detail_result.content]  # type: ignore[union-attr]
    assert summary.startswith(f"task 12 ({seed.REPO}, PR #{detail['pr_number']}")
    assert json.loads(as_json) == detail

    assert cancellations == {"task_id": 12, "epoch": state.epoch, "all_stopped": True,
                             "cancellations": []}  # fmt: skip
    assert stray == [], "the server wrote something that is not the protocol to stdout"
    assert "control-api at " + platform.control_api in log, "logs go to stderr"


async def test_text_says_what_the_json_says(platform: platforms.Platform, tmp_path: Path) -> None:
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        listed = text(await mcp.call("list_tasks"))
    first, second = listed.splitlines()[:2]
    assert first == "1 task(s)"
    assert second.startswith(f"task 12 ({seed.REPO}): stage ")
    assert second.endswith("cancellation requested: no")
