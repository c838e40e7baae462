"""A resumed Suspend node never finishes before it started.

The step's time is taken when it begins, before it may wait for the task's lock, and
the workflow controller's clock is not remedy's: a gate reached in between would read
as resumed before it was reached (the chaos test's ordering check caught one).
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.domain import workflows as wf


def _suspended(started: str | None) -> dict[str, Any]:
    node: dict[str, Any] = {"id": "wait-0", "type": "Suspend", "phase": "Running"}
    if started is not None:
        node["startedAt"] = started
    return {
        "metadata": {"name": "play-task-1", "labels": {"current-stage": "waiting-ready-for-qa"}},
        "spec": {},
        "status": {"phase": "Running", "nodes": {"wait-0": node}},
    }


def _finished(workflow: dict[str, Any]) -> str:
    node = wf.resumed(workflow, now=NOW)["status"]["nodes"]["wait-0"]
    assert node["phase"] == "Succeeded"
    return str(node["finishedAt"])


NOW = "2026-12-03T14:41:56.100000Z"


@pytest.mark.parametrize(
    ("started", "finished"),
    [
        ("2026-12-03T14:41:55.900000Z", NOW),  # reached before the step: now
        ("2026-12-03T14:41:56Z", NOW),  # Argo's whole seconds
        ("2026-12-03T14:41:56.700000Z", "2026-12-03T14:41:56.700000Z"),  # reached later
        (None, NOW),
        ("not a time", NOW),
    ],
)
def test_finished_at_is_never_before_started_at(started: str | None, finished: str) -> None:
    assert _finished(_suspended(started)) == finished
