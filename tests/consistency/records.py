"""One round of cancelling, as observed, normalised so that rounds can be compared.

A :class:`Round` is what one request for a cancellation left behind, read from the
platform itself and not from the client that sent it: the requests control-api
received, every event the broker accepted and where it was delivered, the task's state
before and after, the CodeRuns. :func:`normalise` turns it into plain JSON-like data in
which what legitimately differs from one round to the next is replaced by a
placeholder, and only where it is exactly what the round sent or found: the reason,
the task's epoch and its newest head where a value is exactly one of them; the
Idempotency-Key control-api received, the operator's token and the round's run name
wherever they appear in a string; the runs the epoch had stopped where a list is
exactly those; times and traceparents where they are well-formed. Anything else stays
literal, so a path that sends another ``requested_by``, another origin, a key of its
own, an epoch of another type or an event without ``traceparent`` stands out.
:func:`same_everywhere` compares the rounds and fails with a unified diff of the odd
one out against the rest.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from remedy.domain import push_order
from remedy.domain.remediation import Event, RemediationState
from remedy.local.broker.envelopes import Envelope
from tests.chain import seed
from tests.support.platform import TASK, Seen

REQUESTED = "dev.remedy.cancellation.requested"
CANCELS = f"/v1/tasks/{TASK}/cancellations"
CORE = frozenset(
    {"specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema"}
)
TIMES = frozenset({"time", "knativearrivaltime"})
TRACEPARENT = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
CANCEL_ANNOTATION = "remedy.dev/cancel"


@dataclass(frozen=True)
class Facts:
    """What a round sent and found: the placeholders stand for exactly these."""

    run: str
    """The name of the round's own review CodeRun."""
    reason: str
    key: str
    """The Idempotency-Key control-api received with the round's request."""
    token: str
    epoch: int
    """The task's epoch when the round started."""
    head: str
    """The task's newest head (by remedy's push order) when the round started."""
    stopped: tuple[str, ...] = ()
    """The runs of that epoch stopped when the round ended (this round's and earlier
    rounds'): agents.stopped names them all, so its list differs by round."""

    @staticmethod
    def of(state: RemediationState, *, run: str, reason: str, key: str, token: str) -> Facts:
        return Facts(run, reason, key, token, state.epoch, newest_head(state))


@dataclass(frozen=True)
class Round:
    """What one request for a cancellation left behind."""

    path: str
    facts: Facts
    told: Mapping[str, Any]
    """What the caller was told: the event id and the epoch (the answer's, the page's,
    the command's)."""
    received: tuple[Seen, ...]
    """Every request control-api received during the round."""
    events: tuple[Envelope, ...]
    """Every event the broker accepted during the round, in arrival order."""
    delivered: Mapping[str, str]
    """``"<event type> -> <trigger>"``: how the last attempt of that delivery ended."""
    before: RemediationState
    after: RemediationState
    run_left: bool
    """Whether the round's CodeRun still exists."""
    rex: tuple[Mapping[str, Any], Mapping[str, Any] | None]
    """Rex's own CodeRun of the task before and after the round."""


def normalise(found: Round) -> dict[str, Any]:
    """The round as comparable data (see the module's docstring)."""
    before, after = found.before, found.after
    added = sorted(set(after.cancellations) - set(before.cancellations))
    changed = sorted(
        key for key, was in before.cancellations.items() if after.cancellations.get(key) != was
    )
    run = after.cancellations.get(f"{seed.AGENT_NS}/{found.facts.run}")
    stopped = sorted(c.name for c in after.cancellations_for(found.facts.epoch) if c.stopped)
    facts = replace(found.facts, stopped=tuple(stopped))
    record = {
        "told the caller": dict(found.told),
        "control-api received": [
            {"authorization": seen.authorization, "idempotency-key": seen.idempotency_key}
            for seen in found.received
            if (seen.method, seen.path) == ("POST", CANCELS)
        ],
        REQUESTED: [_event(e) for e in found.events if e.type == REQUESTED],
        "other events": [  # without ids: agents.stopped's names the set of runs stopped
            {k: v for k, v in _event(e).items() if k != "id"}
            for e in found.events
            if e.type != REQUESTED
        ],
        "deliveries": dict(sorted(found.delivered.items())),
        "history": [_entry(e) for e in after.history if e not in before.history],
        "the run": None if run is None else _cancellation(run.model_dump()),
        "the run's CodeRun deleted": not found.run_left,
        "task": {
            "epoch": after.epoch,
            "newest head": newest_head(after),
            "cancellations added": added,
            "cancellations changed": changed,
            "resumed epoch": after.resumed_epoch,
        },
        "rex's run": _untouched(*found.rex),
    }
    normalised: dict[str, Any] = _placeholders(record, facts)
    return normalised


def newest_head(state: RemediationState) -> str:
    """The head control-api names in a request: its newest push's, by remedy's order."""
    newest = push_order.newest(state.pushes)
    assert newest is not None, f"task {state.task_id} has no push"
    return newest.after


def same_everywhere(records: Mapping[str, dict[str, Any]]) -> None:
    """Fail unless every path's record is the same; the message names the odd paths and
    shows each one's unified diff against the largest group of paths that agree."""
    groups: list[tuple[str, list[str]]] = []
    for path, record in records.items():
        text = json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False)
        for known, paths in groups:
            if known == text:
                paths.append(path)
                break
        else:
            groups.append((text, [path]))
    if len(groups) == 1:
        return
    groups.sort(key=lambda group: -len(group[1]))
    reference, agreeing = groups[0]
    report = []
    for text, paths in groups[1:]:
        names = ", ".join(paths)
        diff = difflib.unified_diff(
            reference.splitlines(), text.splitlines(), ", ".join(agreeing), names, lineterm="", n=2
        )
        report.append(f"{names} differs from {', '.join(agreeing)}:\n" + "\n".join(diff))
    raise AssertionError("the paths disagree\n" + "\n\n".join(report))


def _event(event: Envelope) -> dict[str, Any]:
    data = json.loads(event.data or b"null")
    attributes = {name: _attribute(name, value) for name, value in event.attributes.items()}
    return {
        **{name: value for name, value in sorted(attributes.items()) if name in CORE},
        "extensions": {k: v for k, v in sorted(attributes.items()) if k not in CORE},
        "data": data,
        "data types": {k: type(v).__name__ for k, v in data.items()},
    }


def _entry(entry: Event) -> dict[str, Any]:
    return {"step": entry.step, "epoch": entry.epoch, "delivery": entry.delivery,
            "outcome": entry.outcome, "at": _time(entry.at)}  # fmt: skip


def _cancellation(dumped: dict[str, Any]) -> dict[str, Any]:
    requested, deadline = dumped.pop("requested_at"), dumped.pop("deadline")
    dumped["uid"] = "<uid>" if dumped["uid"] else ""
    grace = datetime.fromisoformat(deadline) - datetime.fromisoformat(requested)
    return {**dumped, "grace seconds": grace.total_seconds()}


def _untouched(was: Mapping[str, Any], now: Mapping[str, Any] | None) -> dict[str, Any]:
    if now is None:
        return {"exists": False}
    notes = now["metadata"].get("annotations") or {}
    return {
        "exists": True,
        "written since": now["metadata"]["resourceVersion"] != was["metadata"]["resourceVersion"],
        "cancel annotations": sorted(k for k in notes if k.startswith(CANCEL_ANNOTATION)),
    }


def _time(value: str) -> str:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return value
    return "<RFC 3339 time>"


def _attribute(name: str, value: str) -> str:
    if name in TIMES:
        return _time(value)
    return "<traceparent>" if name == "traceparent" and TRACEPARENT.match(value) else value


def _placeholders(value: Any, facts: Facts) -> Any:
    if isinstance(value, dict):
        return {_placeholders(k, facts): _placeholders(v, facts) for k, v in value.items()}
    if isinstance(value, list):
        names = [v for v in value if isinstance(v, str)]
        if facts.stopped and len(names) == len(value) and sorted(names) == list(facts.stopped):
            return "<the epoch's stopped runs>"
        return [_placeholders(v, facts) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and value == facts.epoch:
        return "<task epoch>"
    if not isinstance(value, str):
        return value
    exact = {facts.reason: "<reason sent>", str(facts.epoch): "<task epoch>",
             facts.head: "<newest head>"}  # fmt: skip
    if value in exact:
        return exact[value]
    for known, placeholder in ((facts.key, "<key>"), (facts.token, "<operator token>"),
                               (facts.run, "<run>")):  # fmt: skip
        if known:
            value = value.replace(known, placeholder)
    return value
