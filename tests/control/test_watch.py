"""Watching a task's cancellations through control-api, over real HTTP.

Covers: ``?watch=true`` streams JSON lines (application/x-ndjson, chunked): a snapshot
of the cancellations, then a ``changed`` line as agents acknowledge, and an ``end``
line with reason ``all-stopped`` once every cancellation of the current epoch has
stopped — the stream closes then; a watch of a task whose cancellations all stopped
already ends right after its snapshot; with nothing changing the stream ends at its
timeout (reason ``timeout``); bad ``watch``/``timeout`` values → 400; an unknown task
→ 404 before any streaming; no token → 401.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from werkzeug.test import Client

from remedy.local.http_server import ServedApp
from tests.control import support


def _watch(served: ServedApp, query: str, task: int = support.TASK) -> requests.Response:
    return requests.get(
        f"{served.url}/v1/tasks/{task}/cancellations?{query}",
        headers=support.auth("operator:alice"),
        stream=True,
        timeout=30,
    )


def _lines(response: requests.Response) -> Iterator[dict[str, Any]]:
    for line in response.iter_lines():
        if line:
            yield json.loads(line)


def _statuses(entry: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["status"] for c in entry["cancellations"]}


def test_the_watch_follows_acknowledgements_to_the_end(
    served_control: ServedApp, control: Client, cancelling: support.Cancelled
) -> None:
    with _watch(served_control, "watch=true&timeout=60") as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/x-ndjson")
        assert response.headers.get("Transfer-Encoding") == "chunked"
        lines = _lines(response)
        snapshot = next(lines)
        assert snapshot["type"] == "snapshot"
        assert snapshot["all_stopped"] is False
        assert _statuses(snapshot) == {"cleo-12": "requested", "tess-12": "requested"}

        for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
            acked = control.post(support.ack_path(name), headers=support.auth(agent))
            assert acked.status_code == 200
        rest = list(lines)

    assert rest[-1] == {"type": "end", "reason": "all-stopped", "task_id": support.TASK}
    changes = rest[:-1]
    assert changes and all(change["type"] == "changed" for change in changes)
    assert changes[-1]["all_stopped"] is True
    assert _statuses(changes[-1]) == {"cleo-12": "gone", "tess-12": "gone"}
    assert all(a != b for a, b in zip([snapshot, *changes], changes, strict=False))


def test_a_watch_of_stopped_work_ends_after_its_snapshot(
    served_control: ServedApp, control: Client, cancelling: support.Cancelled
) -> None:
    for name, agent in (("cleo-12", "5DLabs-Cleo"), ("tess-12", "5DLabs-Tess[bot]")):
        control.post(support.ack_path(name), headers=support.auth(agent))
    with _watch(served_control, "watch=true") as response:
        entries = list(_lines(response))
    assert [e["type"] for e in entries] == ["snapshot", "end"]
    assert entries[0]["all_stopped"] is True
    assert entries[1]["reason"] == "all-stopped"


def test_a_quiet_watch_ends_at_its_timeout(
    served_control: ServedApp, cancelling: support.Cancelled
) -> None:
    with _watch(served_control, "watch=1&timeout=0.3") as response:
        entries = list(_lines(response))
    assert [e["type"] for e in entries] == ["snapshot", "end"]
    assert entries[1] == {"type": "end", "reason": "timeout", "task_id": support.TASK}


@pytest.mark.parametrize(
    ("query", "complaint"),
    [
        ("watch=maybe", "watch='maybe'"),
        ("watch=true&timeout=0", "timeout='0'"),
        ("watch=true&timeout=301", "timeout='301'"),
        ("watch=true&timeout=soon", "timeout='soon'"),
        ("watch=true&timeout=nan", "timeout='nan'"),
    ],
)
def test_bad_watch_parameters_are_400(
    control: Client, cancelling: support.Cancelled, query: str, complaint: str
) -> None:
    response = control.get(
        f"/v1/tasks/{support.TASK}/cancellations?{query}", headers=support.auth("operator:alice")
    )
    assert response.status_code == 400
    assert complaint in response.json["message"]


def test_unknown_task_and_no_token(served_control: ServedApp, control_env: dict[str, str]) -> None:
    with _watch(served_control, "watch=true", task=77) as response:
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
    anonymous = requests.get(
        f"{served_control.url}/v1/tasks/{support.TASK}/cancellations?watch=true", timeout=10
    )
    assert anonymous.status_code == 401
