"""What a simulated agent does next, decided from the CodeRun alone.

A simulated run goes Pending → Running → Succeeded (or the outcome it asks for); a
cancellation request is acknowledged after a delay or ignored, and once acknowledged
(``remedy.dev/cancel-acknowledged-at``) the agent has stopped: nothing more happens.
Every step is derived from the object itself — its status phase and ``lastUpdate``,
its annotations — so the simulator keeps no state that a restart would lose, and the
same function can be tested without a cluster.

Per-run settings come from annotations, with the simulator's defaults otherwise:

- ``remedy.dev/simulate-pending-seconds``: time spent Pending (default 0.5);
- ``remedy.dev/simulate-run-seconds``: time spent Running (default 5);
- ``remedy.dev/simulate-outcome``: ``Succeeded`` (default) or ``Failed``;
- ``remedy.dev/simulate-ack-delay-seconds``: delay before acknowledging a cancellation
  (default 0.2), or ``never`` to ignore it (how tests exercise the forced path);
- older spellings, still read: ``remedy.dev/simulate-cancel`` (``acknowledge`` or
  ``ignore``) and ``remedy.dev/simulate-ack-seconds``; ``-ack-delay-seconds`` wins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from remedy.domain import agents

SIMULATE_LABEL = agents.SIMULATE_LABEL
SELECTOR = f"{SIMULATE_LABEL}=true"
PENDING_SECONDS = "remedy.dev/simulate-pending-seconds"
RUN_SECONDS = "remedy.dev/simulate-run-seconds"
ACK_SECONDS = "remedy.dev/simulate-ack-seconds"
ACK_DELAY = "remedy.dev/simulate-ack-delay-seconds"
NEVER = "never"
CANCEL = "remedy.dev/simulate-cancel"
OUTCOME = "remedy.dev/simulate-outcome"

OUTCOMES = ("Succeeded", "Failed")
CANCEL_MODES = ("acknowledge", "ignore")
FINISHED = agents.FINISHED_PHASES


@dataclass(frozen=True)
class Plan:
    """How one simulated run behaves (defaults, overridden per run by annotations)."""

    pending_seconds: float = 0.5
    run_seconds: float = 5.0
    ack_seconds: float = 0.2
    outcome: str = "Succeeded"
    cancel: str = "acknowledge"


@dataclass(frozen=True)
class Step:
    kind: str  # "pending", "running", "finish", "acknowledge"
    due: datetime


def _seconds(value: str | None, fallback: float) -> float:
    try:
        seconds = float(value) if value is not None else fallback
    except ValueError:
        return fallback
    return seconds if math.isfinite(seconds) and seconds >= 0 else fallback


def plan_for(coderun: Mapping[str, Any], defaults: Plan) -> Plan:
    annotations = (coderun.get("metadata") or {}).get("annotations") or {}
    outcome = annotations.get(OUTCOME, defaults.outcome)
    cancel = annotations.get(CANCEL, defaults.cancel)
    ack_seconds = _seconds(annotations.get(ACK_SECONDS), defaults.ack_seconds)
    delay = (annotations.get(ACK_DELAY) or "").strip().lower()
    if delay == NEVER:
        cancel = "ignore"
    elif _seconds(delay or None, -1.0) >= 0:  # an unreadable delay changes nothing
        ack_seconds, cancel = float(delay), "acknowledge"
    return replace(
        defaults,
        pending_seconds=_seconds(annotations.get(PENDING_SECONDS), defaults.pending_seconds),
        run_seconds=_seconds(annotations.get(RUN_SECONDS), defaults.run_seconds),
        ack_seconds=ack_seconds,
        outcome=outcome if outcome in OUTCOMES else defaults.outcome,
        cancel=cancel if cancel in CANCEL_MODES else defaults.cancel,
    )


def is_simulated(coderun: Mapping[str, Any]) -> bool:
    labels = (coderun.get("metadata") or {}).get("labels") or {}
    return labels.get(SIMULATE_LABEL) == "true"


def cancel_requested_at(coderun: Mapping[str, Any]) -> datetime | bool | None:
    """When cancellation was requested; True if requested at an unreadable time."""
    annotations = (coderun.get("metadata") or {}).get("annotations") or {}
    value = annotations.get(agents.CANCEL_REQUESTED_AT)
    if not value:
        return None
    return agents.parse_time(value) or True


def acknowledged(coderun: Mapping[str, Any]) -> bool:
    annotations = (coderun.get("metadata") or {}).get("annotations") or {}
    return bool(annotations.get(agents.CANCEL_ACKNOWLEDGED_AT))


def next_step(
    coderun: Mapping[str, Any],
    plan: Plan,
    *,
    acknowledge_after: float | None,
    now: datetime,
    request_seen: datetime | None = None,
) -> Step | None:
    """The next thing the agent does to this run, and when; None when it is done.

    ``acknowledge_after`` is the cancellation behaviour's delay (None: ignore);
    ``request_seen`` dates a request whose annotation holds no readable time.
    """
    metadata = coderun.get("metadata") or {}
    if metadata.get("deletionTimestamp") or not is_simulated(coderun):
        return None
    status = coderun.get("status") or {}
    phase = status.get("phase") or ""
    if phase in FINISHED or acknowledged(coderun):
        return None  # finished, or acknowledged a cancellation: the agent has stopped
    requested = cancel_requested_at(coderun)
    if requested is not None and acknowledge_after is not None:
        since = requested if isinstance(requested, datetime) else (request_seen or now)
        return Step("acknowledge", since + timedelta(seconds=acknowledge_after))
    since = agents.parse_time(status.get("lastUpdate")) or now
    if phase == "":
        return Step("pending", now)
    if phase == "Pending":
        return Step("running", since + timedelta(seconds=plan.pending_seconds))
    if phase == "Running":
        return Step("finish", since + timedelta(seconds=plan.run_seconds))
    return None
