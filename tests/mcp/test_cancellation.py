"""Cancelling through ``remedy mcp``: the cancellation really happens, agents acknowledge.

Covers: ``request_cancellation`` sending control-api's
``dev.remedy.cancellation.requested`` (origin api, the caller as requested_by, the
reason) through the broker to agent-cancel, which asks Cleo's and Tess's running runs
to stop (the ``remedy.dev/cancel-*`` annotations) and records them in the task's
state, as ``list_cancellations`` and ``get_remediation_state`` then show; the same
idempotency key giving the same event; an agent (Cleo's token) acknowledging its own
run — deleted, recorded gone, a repeat answered already-acknowledged — while
acknowledging Tess's run comes back as a 403 tool error and leaves it running;
``wait_for_cancellations`` ending ``all-stopped`` as the simulated agents acknowledge
through control-api, and ``timeout`` (not an error) with the last snapshot when they
do not.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.chain import seed
from tests.mcp.sessions import Session, remedy_mcp, text
from tests.support import platform as platforms
from tests.support.waiting import eventually

pytestmark = pytest.mark.anyio

TASK = platforms.TASK
ALICE = platforms.TOKENS["operator:alice"]
CLEO = platforms.TOKENS["5DLabs-Cleo"]
REQUESTED = "dev.remedy.cancellation.requested"


async def _requested(mcp: Session, platform: platforms.Platform) -> None:
    """Cancel task 12's review agents and wait until agent-cancel has asked both runs."""
    accepted = await mcp.answer("request_cancellation", task_id=TASK, reason="the spec changed")
    assert accepted["type"] == REQUESTED
    platform.asked_to_stop("cleo-12", "tess-12")


async def test_request_cancellation_cancels_the_review_runs(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    platform.review_run("cleo-12", "5DLabs-Cleo", ack_delay=None)
    platform.review_run("tess-12", "5DLabs-Tess", ack_delay=None)
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        result = await mcp.call("request_cancellation", task_id=TASK, reason="the spec changed",
                                repository=seed.REPO, idempotency_key="spec-v2")  # fmt: skip
        annotations = platform.annotations("cleo-12", "tess-12")
        again = await mcp.answer("request_cancellation", task_id=TASK, reason="the spec changed",
                                 idempotency_key="spec-v2")  # fmt: skip
        listed = await mcp.answer("list_cancellations", task_id=TASK)
        detail = await mcp.answer("get_remediation_state", task_id=TASK)

    assert not result.is_error, text(result)
    accepted = result.structured_content or {}
    assert accepted["event_id"] == again["event_id"] == f"api:{TASK}:spec-v2:cancellation.requested"
    assert "follow it with wait_for_cancellations" in text(result)
    sent = platform.events(REQUESTED)
    assert [attributes["id"] for attributes, _ in sent] == [accepted["event_id"]] * 2
    attributes, data = sent[0]
    assert attributes["source"] == "/remedy/control-api"
    event = json.loads(data)
    assert (event["origin"], event["requested_by"], event["reason"]) == (
        "api", "operator:alice", "the spec changed",
    )  # fmt: skip
    assert (event["task_id"], event["epoch"], event["head_sha"]) == (
        TASK, accepted["epoch"], platforms.NEW,
    )  # fmt: skip

    for name in ("cleo-12", "tess-12"):
        assert annotations[name]["remedy.dev/cancel-epoch"] == str(accepted["epoch"])
        assert annotations[name]["remedy.dev/cancel-reason"] == "the spec changed"
    assert listed["all_stopped"] is False
    assert {(c["name"], c["status"], c["requested_by"]) for c in listed["cancellations"]} == {
        ("cleo-12", "requested", "operator:alice"),
        ("tess-12", "requested", "operator:alice"),
    }
    assert detail["cancellations"][f"{seed.AGENT_NS}/tess-12"]["reason"] == "the spec changed"


async def test_an_agent_acknowledges_its_own_run_and_no_other(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    platform.review_run("cleo-12", "5DLabs-Cleo", ack_delay=None)
    platform.review_run("tess-12", "5DLabs-Tess", ack_delay=None)
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as operator:
        await _requested(operator, platform)
        refused_operator, _ = await operator.refusal(
            "acknowledge_cancellation", namespace=seed.AGENT_NS, name="cleo-12"
        )
    async with remedy_mcp(url=platform.control_api, token=CLEO, cwd=tmp_path) as cleo:
        refused, said = await cleo.refusal(
            "acknowledge_cancellation", namespace=seed.AGENT_NS, name="tess-12"
        )
        acknowledged = await cleo.answer(
            "acknowledge_cancellation", namespace=seed.AGENT_NS, name="cleo-12"
        )
        repeated = await cleo.answer(
            "acknowledge_cancellation", namespace=seed.AGENT_NS, name="cleo-12"
        )

    assert (refused["status"], refused["error"]) == (403, "forbidden")
    assert said.startswith("control-api answered 403 forbidden: ")
    assert refused_operator["status"] == 403, "an operator cannot acknowledge for an agent"
    tess = platform.coderun("tess-12")
    assert tess is not None, "Tess's run is still there"
    assert "remedy.dev/cancel-acknowledged-at" not in tess["metadata"]["annotations"]

    assert acknowledged["coderun"] == f"{seed.AGENT_NS}/cleo-12"
    assert acknowledged["status"] == "acknowledged"
    assert acknowledged["cancellation"]["status"] == "gone"
    assert repeated["status"] == "already-acknowledged"
    assert platform.coderun("cleo-12") is None
    state = platform.state()
    assert state is not None
    assert state.cancellations[f"{seed.AGENT_NS}/cleo-12"].status == "gone"
    assert state.cancellations[f"{seed.AGENT_NS}/tess-12"].status == "requested"


async def test_wait_ends_all_stopped_when_the_agents_acknowledge(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    platform.review_run("cleo-12", "5DLabs-Cleo", ack_delay="2.5")
    platform.review_run("tess-12", "5DLabs-Tess", ack_delay="3")
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        await _requested(mcp, platform)
        result = await mcp.call("wait_for_cancellations", task_id=TASK, timeout_seconds=60)
    assert not result.is_error, text(result)
    waited = result.structured_content or {}
    assert waited["ended"] == "all-stopped"
    assert waited["changes"] >= 1, "it followed the acknowledgements as they came"
    last = waited["last"]
    assert last["all_stopped"] is True
    assert {c["name"]: c["status"] for c in last["cancellations"]} == {
        "cleo-12": "gone",
        "tess-12": "gone",
    }
    assert text(result).startswith(f"task {TASK}: every cancellation of the current epoch stopped")
    assert platform.coderun("cleo-12") is None and platform.coderun("tess-12") is None


async def test_wait_times_out_while_an_agent_ignores_the_request(
    platform: platforms.Platform, tmp_path: Path
) -> None:
    platform.review_run("cleo-12", "5DLabs-Cleo", ack_delay="0")
    platform.review_run("tess-12", "5DLabs-Tess", ack_delay="never")
    async with remedy_mcp(url=platform.control_api, token=ALICE, cwd=tmp_path) as mcp:
        await _requested(mcp, platform)
        eventually(lambda: platform.coderun("cleo-12") is None, timeout=15, what="cleo's ack")
        result = await mcp.call("wait_for_cancellations", task_id=TASK, timeout_seconds=1)
    assert not result.is_error, "a timeout is an answer"
    waited = result.structured_content or {}
    assert (waited["ended"], waited["timeout_seconds"]) == ("timeout", 1)
    assert {c["name"]: c["status"] for c in waited["last"]["cancellations"]} == {
        "cleo-12": "gone",
        "tess-12": "requested",
    }
    summary = text(result).splitlines()[0]
    assert summary.startswith(f"task {TASK}: timed out after 1 s")
    assert f"1 not stopped yet: {seed.AGENT_NS}/tess-12 (5DLabs-Tess, requested)" in summary
