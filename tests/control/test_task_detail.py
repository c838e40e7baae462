"""One task through control-api: its stage, the timeline of its remediations, and the
reason and requester each cancellation keeps.

Covers: ``GET /v1/tasks/{id}`` keeps the state's fields and adds the play workflow's
stage (null without a workflow) and a timeline — one entry per admitted push, newest
first, with its head, before, delivery and push time, and as steps the history of its
epoch in order (agent-cancel, label-update, control-api's acknowledgements,
workflow-resume); history of an epoch no admitted push has stays out of it. Each
recorded cancellation keeps its reason and who asked — a push's
(``remedy/agent-cancel``) and an operator's request through the API — after the run
is acknowledged and gone; both show in ``GET .../cancellations``, in the watch
snapshot and in the acknowledgement's answer.
"""

from __future__ import annotations

import json
from typing import Any

import requests
from kubernetes import client
from werkzeug.test import Client

from remedy.local.http_server import ServedApp
from tests.chain import seed
from tests.control import seeding, support
from tests.intake.conftest import RecordingSink
from tests.support.events import post, push_event, reply

ALICE = support.auth("operator:alice")
NEWER = "3" * 40


def _task(control: Client) -> dict[str, Any]:
    response = control.get(f"/v1/tasks/{support.TASK}", headers=ALICE)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json
    return body


def _ack_all(control: Client) -> Any:
    for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
        answer = control.post(support.ack_path(name), headers=support.auth(agent))
        assert answer.status_code == 200, answer.json
    return answer


def test_the_timeline_follows_a_remediation_step_by_step(
    control: Client,
    cancelling: support.Cancelled,
    chain: dict[str, Any],
    recorder: RecordingSink,
) -> None:
    _ack_all(control)
    [stopped] = support.sent(recorder)
    reply(chain["workflow-resume"], stopped)

    detail = _task(control)
    assert detail["stage"] == "waiting-pr-created", "workflow-resume moved it back"
    [remediation] = detail["timeline"]
    pushed = cancelling.requested.get_data()
    assert {k: v for k, v in remediation.items() if k != "steps"} == {
        "epoch": cancelling.epoch,
        "head": support.NEW,
        "before": support.OLD,
        "delivery": pushed["delivery_id"],
        "pushed_at": detail["heads"][0]["pushed_at"],
    }
    steps = remediation["steps"]
    assert [s["step"] for s in steps] == [
        "agent-cancel",
        "label-update",
        "control-api",
        "control-api",
        "workflow-resume",
    ]
    assert steps[0]["outcome"] == "2 cancelled, 1 kept"
    assert "cleo-12: acknowledged by 5DLabs-Cleo" in steps[2]["outcome"]
    assert "tess-12: acknowledged by 5DLabs-Tess[bot]" in steps[3]["outcome"]
    assert [s["at"] for s in steps] == sorted(s["at"] for s in steps)
    history = [{k: e[k] for k in ("step", "at", "outcome", "delivery")} for e in detail["history"]]
    assert steps == history, "every step is the epoch's history entry, as recorded"


def test_a_newer_push_comes_first_with_its_own_steps(
    control: Client, cancelling: support.Cancelled, chain: dict[str, Any]
) -> None:
    _ack_all(control)
    newer = push_event(delivery="d-2", branch=support.BRANCH, before=support.NEW, after=NEWER)
    requested = reply(chain["push-intake"], newer)
    reply(chain["agent-cancel"], requested)

    detail = _task(control)
    first, second = detail["timeline"]
    assert (first["head"], first["before"], first["epoch"]) == (
        NEWER,
        support.NEW,
        requested.get_data()["epoch"],
    )
    assert first["delivery"] == "d-2"
    assert [s["step"] for s in first["steps"]] == ["agent-cancel"]
    assert first["steps"][0]["outcome"] == "0 cancelled, 1 kept"
    assert second["head"] == support.NEW
    assert [s["step"] for s in second["steps"]][:2] == ["agent-cancel", "label-update"]
    assert detail["epoch"] == first["epoch"]
    assert detail["task_id"] == support.TASK and "resource_version" in detail, "fields kept"


def test_history_of_epochs_without_a_push_stays_out_of_the_timeline(
    control: Client, control_env: dict[str, str], api: client.ApiClient
) -> None:
    epoch = 1_900_000_000_000_002
    seeding.save(
        api,
        seeding.state(
            support.TASK,
            epoch=epoch,
            heads=[seeding.head(epoch, support.NEW, before=support.OLD)],
            history=[
                seeding.event(seeding.AT, epoch=epoch - 1, outcome="superseded: older push"),
                seeding.event(seeding.AT, epoch=epoch, outcome="1 cancelled, 0 kept"),
            ],
        ),
    )
    detail = _task(control)
    assert detail["stage"] is None, "no play workflow"
    [remediation] = detail["timeline"]
    assert [s["outcome"] for s in remediation["steps"]] == ["1 cancelled, 0 kept"]
    assert len(detail["history"]) == 2, "the history keeps both"


def _cancellations(control: Client) -> dict[str, dict[str, Any]]:
    response = control.get(f"/v1/tasks/{support.TASK}/cancellations", headers=ALICE)
    assert response.status_code == 200
    return {c["name"]: c for c in response.json["cancellations"]}


def test_a_push_cancellation_keeps_its_reason_after_the_run_is_gone(
    control: Client,
    cancelling: support.Cancelled,
    served_control: ServedApp,
    custom: client.CustomObjectsApi,
) -> None:
    expected = {
        "reason": f"remediation push {support.NEW[:12]} by 5DLabs-Rex",
        "requested_by": "remedy/agent-cancel",
    }
    annotations = support.coderun(custom, "cleo-12")["metadata"]["annotations"]  # type: ignore[index]
    assert annotations["remedy.dev/cancel-reason"] == expected["reason"]
    answer = _ack_all(control)
    assert support.coderun(custom, "cleo-12") is None
    assert {k: answer.json["cancellation"][k] for k in expected} == expected

    for name in ("cleo-12", "tess-12"):
        recorded = _cancellations(control)[name]
        assert recorded["status"] == "gone"
        assert {k: recorded[k] for k in expected} == expected
    with requests.get(
        f"{served_control.url}/v1/tasks/{support.TASK}/cancellations?watch=true",
        headers=ALICE,
        stream=True,
        timeout=30,
    ) as response:
        snapshot = json.loads(next(response.iter_lines()))
    assert all({k: c[k] for k in expected} == expected for c in snapshot["cancellations"])


def test_an_operators_request_keeps_who_asked_and_why(
    control: Client,
    cancelling: support.Cancelled,
    chain: dict[str, Any],
    custom: client.CustomObjectsApi,
    recorder: RecordingSink,
) -> None:
    _ack_all(control)
    recorder.requests.clear()
    seed.coderun(custom, "tess-12-b", task=support.TASK, agent="5DLabs-Tess", phase="Running")
    asked = control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        json={"reason": "the spec changed under the review"},
        headers=ALICE,
    )
    assert asked.status_code == 202, asked.json
    [event] = support.sent(recorder)
    assert post(chain["agent-cancel"], event).status_code == 202
    acked = control.post(support.ack_path("tess-12-b"), headers=support.auth("5DLabs-Tess[bot]"))
    assert acked.status_code == 200, acked.json
    assert support.coderun(custom, "tess-12-b") is None

    recorded = _cancellations(control)["tess-12-b"]
    assert recorded["status"] == "gone"
    assert recorded["reason"] == "the spec changed under the review"
    assert recorded["requested_by"] == "operator:alice"
    kept = _task(control)["cancellations"][f"{seed.AGENT_NS}/tess-12-b"]
    assert (kept["reason"], kept["requested_by"]) == (recorded["reason"], "operator:alice")
    assert _cancellations(control)["cleo-12"]["requested_by"] == "remedy/agent-cancel"
