"""The simulated agent's decisions, from a CodeRun alone (no cluster).

Covers: the Pending → Running → finish sequence timed from ``status.lastUpdate``;
per-run annotations overriding the defaults, invalid ones falling back; unmarked,
deleting and finished runs getting no step; a cancellation request acknowledged
after the behaviour's delay, counted from the request's time (or from when it was
seen, when the annotation holds no readable time); an ignored request leaving the
schedule as it was; an acknowledged request ending the run's schedule (the agent has
stopped); ``remedy.dev/simulate-ack-delay-seconds`` setting the delay or, with
``never``, ignoring requests, and winning over the older annotations; unreadable or
non-finite delays falling back to the defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from remedy.domain import agents
from remedy.local.emulators.agents.schedule import Plan, Step, next_step, plan_for
from tests.emulators.agents.support import run

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
PLAN = Plan(pending_seconds=1, run_seconds=10, ack_seconds=2)


def _with(
    obj: dict[str, Any], *, phase: str = "", since: datetime = NOW, **annotations: str
) -> dict[str, Any]:
    obj["metadata"]["annotations"].update(annotations)
    if phase:
        obj["status"] = {"phase": phase, "lastUpdate": agents.format_time(since)}
    return obj


@pytest.mark.parametrize(
    ("phase", "expected"),
    [
        ("", Step("pending", NOW)),
        ("Pending", Step("running", NOW + timedelta(seconds=1))),
        ("Running", Step("finish", NOW + timedelta(seconds=10))),
        ("Succeeded", None),
        ("Cancelled", None),
    ],
)
def test_lifecycle_steps(phase: str, expected: Step | None) -> None:
    assert next_step(_with(run("r"), phase=phase), PLAN, acknowledge_after=2, now=NOW) == expected


def test_unmarked_and_deleting_runs_are_left_alone() -> None:
    assert next_step(run("r", simulate=False), PLAN, acknowledge_after=2, now=NOW) is None
    deleting = run("r")
    deleting["metadata"]["deletionTimestamp"] = "2025-01-01T12:00:00Z"
    assert next_step(deleting, PLAN, acknowledge_after=2, now=NOW) is None


def test_annotations_override_defaults() -> None:
    obj = run(
        "r",
        **{
            "remedy.dev/simulate-run-seconds": "3",
            "remedy.dev/simulate-outcome": "Failed",
            "remedy.dev/simulate-cancel": "ignore",
            "remedy.dev/simulate-pending-seconds": "soon",
        },
    )
    assert plan_for(obj, PLAN) == Plan(
        pending_seconds=1, run_seconds=3, ack_seconds=2, outcome="Failed", cancel="ignore"
    )


def test_cancellation_is_acknowledged_after_the_delay() -> None:
    requested = NOW + timedelta(seconds=4)
    obj = _with(
        run("r"), phase="Running", **{agents.CANCEL_REQUESTED_AT: agents.format_time(requested)}
    )
    assert next_step(obj, PLAN, acknowledge_after=2, now=NOW) == Step(
        "acknowledge", requested + timedelta(seconds=2)
    )


def test_unreadable_request_time_counts_from_when_it_was_seen() -> None:
    obj = _with(run("r"), phase="Running", **{agents.CANCEL_REQUESTED_AT: "yes please"})
    seen = NOW + timedelta(seconds=7)
    assert next_step(obj, PLAN, acknowledge_after=1, now=NOW, request_seen=seen) == Step(
        "acknowledge", seen + timedelta(seconds=1)
    )


def test_ignored_requests_keep_the_schedule() -> None:
    requested = {agents.CANCEL_REQUESTED_AT: agents.format_time(NOW)}
    ignored = _with(run("r"), phase="Running", **requested)
    assert next_step(ignored, PLAN, acknowledge_after=None, now=NOW) == Step(
        "finish", NOW + timedelta(seconds=10)
    )


def test_an_acknowledged_request_stops_the_agent() -> None:
    requested = {agents.CANCEL_REQUESTED_AT: agents.format_time(NOW)}
    done = _with(run("r"), phase="Running", **requested, **{agents.CANCEL_ACKNOWLEDGED_AT: "x"})
    assert next_step(done, PLAN, acknowledge_after=2, now=NOW) is None
    assert next_step(done, PLAN, acknowledge_after=None, now=NOW) is None


@pytest.mark.parametrize(
    ("annotations", "ack_seconds", "cancel"),
    [
        ({}, 2, "acknowledge"),
        ({"remedy.dev/simulate-ack-delay-seconds": "0"}, 0, "acknowledge"),
        ({"remedy.dev/simulate-ack-delay-seconds": "1.5"}, 1.5, "acknowledge"),
        ({"remedy.dev/simulate-ack-delay-seconds": "never"}, 2, "ignore"),
        ({"remedy.dev/simulate-ack-delay-seconds": "NEVER"}, 2, "ignore"),
        ({"remedy.dev/simulate-ack-delay-seconds": "soon"}, 2, "acknowledge"),
        ({"remedy.dev/simulate-ack-delay-seconds": "inf"}, 2, "acknowledge"),
        ({"remedy.dev/simulate-ack-delay-seconds": "-1"}, 2, "acknowledge"),
        ({"remedy.dev/simulate-ack-seconds": "3"}, 3, "acknowledge"),
        ({"remedy.dev/simulate-ack-seconds": "nan"}, 2, "acknowledge"),
        (
            {"remedy.dev/simulate-ack-seconds": "3", "remedy.dev/simulate-ack-delay-seconds": "1"},
            1,
            "acknowledge",
        ),
        (
            {"remedy.dev/simulate-cancel": "ignore", "remedy.dev/simulate-ack-delay-seconds": "1"},
            1,
            "acknowledge",
        ),
        ({"remedy.dev/simulate-cancel": "ignore"}, 2, "ignore"),
    ],
)
def test_ack_delay_annotation(annotations: dict[str, str], ack_seconds: float, cancel: str) -> None:
    plan = plan_for(run("r", **annotations), PLAN)
    assert (plan.ack_seconds, plan.cancel) == (ack_seconds, cancel)


def test_default_ack_delay_is_a_fifth_of_a_second() -> None:
    assert Plan().ack_seconds == 0.2
