"""One cancellation, four ways: REST, MCP, the dashboard and the CLI do the same thing.

Covers, on remedy over real HTTP (every function, the local broker routing by knative/'s
Triggers, the simulated agents acknowledging through control-api), with Rex's push of
task 12 gone through the chain and Rex's own run still running: four rounds, one per
path (tests/consistency/paths.py), each on a fresh running Cleo run of the task, each
with its own reason (not ASCII) and Idempotency-Key, all with the same operator token.
Each round is read back from the platform (tests/consistency/records.py), and:
- the four rounds' normalised records are equal — else the test fails naming the odd
  path with a unified diff against the others;
- the one ``dev.remedy.cancellation.requested`` the broker accepted per round comes from
  /remedy/control-api about task 12, with origin api, requested_by the operator, the
  reason as sent, the task's epoch and newest head; its id is control-api's rule,
  ``api:<task>:<the Idempotency-Key received>:cancellation.requested``, its correlation
  id the same without the step, and the caller was told that id and that epoch;
- control-api received exactly one POST per round, the token as its Bearer, the key;
- the same final state: the round's run gone in the task's state (its reason,
  requested_by, for-head and 30 s grace kept), acknowledged by Cleo, its CodeRun
  deleted; the task's epoch and newest head unchanged; nothing else cancelled or
  changed (the earlier rounds' records kept, Rex's run never written); the same history
  entries (agent-cancel's "1 cancelled at the request of operator:alice (api)" under
  the request's correlation id, then control-api's acknowledgement); the same events
  after it, delivered to the same Triggers, every delivery successful;
- the comparison can fail for every path: that path's event with another
  requested_by, origin or reason, without traceparent, with its epoch as a string or an
  id of another scheme, or its run left requested, fails it, naming that path.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from remedy.domain.remediation import RemediationState
from remedy.local.broker.envelopes import Envelope
from tests.chain import seed
from tests.consistency.conftest import REX
from tests.consistency.paths import PATHS, Caller, Request
from tests.consistency.records import (
    CANCELS,
    REQUESTED,
    Facts,
    Round,
    normalise,
    same_everywhere,
)
from tests.dashboard.browser import Page
from tests.support.platform import OPERATOR, OPERATOR_TOKEN, TASK, Platform
from tests.support.waiting import eventually

CORRELATION = f"api:{TASK}:<key>"
ACKNOWLEDGED = "acknowledged by 5DLabs-Cleo; deleted, confirmed gone"


def test_every_path_requests_the_same_cancellation(
    platform: Platform, page: Page, tmp_path: Path
) -> None:
    caller = Caller(platform, page, tmp_path, OPERATOR_TOKEN)
    rounds = {path: _round(caller, path, request) for path, request in PATHS.items()}
    records = {path: normalise(found) for path, found in rounds.items()}
    print(json.dumps(records, indent=2, ensure_ascii=False))  # shown when it fails

    same_everywhere(records)
    for path, record in records.items():
        _as_control_api_says(path, record, pr_number=rounds[path].before.pr_number)
    _each_path_can_fail(rounds, records)


def _round(caller: Caller, path: str, request: Request) -> Round:
    """Seed a running Cleo run, ask through ``path``, wait until it is over; what it left."""
    platform, broker = caller.platform, caller.platform.routing()
    run, key = f"cleo-{TASK}-{path}", f"same-cancellation-{path}-{uuid.uuid4().hex[:12]}"
    reason = f"the spec changed — asked through {path}"
    before = platform.state()
    rex = platform.coderun(REX)
    assert before is not None and rex is not None
    events, received = len(broker.records.events()), len(platform.control.requests())
    platform.review_run(run, "5DLabs-Cleo", ack_delay="0")

    told = request(caller, reason, key)
    after = eventually(lambda: _over(platform, run), timeout=30, every=0.05,
                       what=f"the cancellation through {path} to complete",
                       describe=platform.state)  # fmt: skip

    accepted = tuple(broker.records.events()[events:])
    seen = tuple(platform.control.requests()[received:])
    keys = [s.idempotency_key for s in seen if (s.method, s.path) == ("POST", CANCELS)]
    if path != "dashboard":  # the page makes its own key
        assert keys == [key], f"{path} did not send the key it was given: {keys}"
    facts = Facts.of(before, run=run, reason=reason, key=keys[0] if keys else "",
                     token=caller.token)  # fmt: skip
    return Round(
        path=path,
        facts=facts,
        told={"event id": told.event_id, "epoch": told.epoch},
        received=seen,
        events=accepted,
        delivered=_delivered(platform, accepted),
        before=before,
        after=after,
        run_left=platform.coderun(run) is not None,
        rex=(rex, platform.coderun(REX)),
    )


def _idle(platform: Platform) -> bool:
    return platform.control.handling == 0 and platform.routing().records.in_flight == 0


def _over(platform: Platform, run: str) -> RemediationState | None:
    """The state once the run is gone and deleted and nothing is being handled: no
    control-api request unanswered (its events are then with the broker), no delivery."""
    if not _idle(platform):
        return None
    state = platform.state()
    recorded = state.cancellations.get(f"{seed.AGENT_NS}/{run}") if state else None
    gone = recorded is not None and recorded.status == "gone"
    return state if gone and platform.coderun(run) is None and _idle(platform) else None


def _delivered(platform: Platform, events: tuple[Envelope, ...]) -> dict[str, str]:
    types = {event.id: event.type for event in events}
    ended = {}
    for record in platform.routing().records.deliveries():  # in order: the last attempt wins
        if record.event_id in types:
            ended[f"{types[record.event_id]} -> {record.trigger}"] = str(record.outcome)
    return ended


def _as_control_api_says(path: str, record: dict[str, Any], *, pr_number: int | None) -> None:
    """What every path's record must hold (the paths could all agree and all be wrong)."""
    events = record[REQUESTED]
    assert len(events) == 1, f"{path}: {len(events)} cancellation.requested events"
    [event] = events
    envelope = {k: event[k] for k in ("type", "source", "subject", "id", "datacontenttype")}
    assert envelope == {
        "type": REQUESTED, "source": "/remedy/control-api", "subject": f"{seed.REPO}/tasks/{TASK}",
        "id": f"{CORRELATION}:cancellation.requested", "datacontenttype": "application/json",
    }, path  # fmt: skip
    extensions = event["extensions"]
    assert {k: extensions.get(k) for k in ("taskid", "epoch", "correlationid", "traceparent")} == {
        "taskid": str(TASK), "epoch": "<task epoch>", "correlationid": CORRELATION,
        "traceparent": "<traceparent>",
    }, path  # fmt: skip
    assert event["data"] == {
        "task_id": TASK, "repository": seed.REPO, "pr_number": pr_number,
        "head_sha": "<newest head>", "correlation_id": CORRELATION, "epoch": "<task epoch>",
        "reason": "<reason sent>", "requested_by": OPERATOR, "origin": "api",
    }, path  # fmt: skip
    assert event["data types"]["epoch"] == "int", path
    assert record["told the caller"] == {"event id": event["id"], "epoch": "<task epoch>"}, path
    assert record["control-api received"] == [
        {"authorization": "Bearer <operator token>", "idempotency-key": "<key>"}
    ], path

    run = record["the run"]
    assert {k: run[k] for k in ("name", "agent", "status", "reason", "requested_by")} == {
        "name": "<run>", "agent": "5DLabs-Cleo", "status": "gone", "reason": "<reason sent>",
        "requested_by": OPERATOR,
    }, path  # fmt: skip
    assert (run["epoch"], run["for_head"], run["outcome"]) == (
        "<task epoch>", "<newest head>", ACKNOWLEDGED,
    ), path  # fmt: skip
    assert record["the run's CodeRun deleted"] is True, path
    assert record["task"] == {
        "epoch": "<task epoch>", "newest head": "<newest head>",
        "cancellations added": [f"{seed.AGENT_NS}/<run>"], "cancellations changed": [],
        "resumed epoch": "<task epoch>",
    }, path  # fmt: skip
    assert record["rex's run"] == {"exists": True, "written since": False,
                                   "cancel annotations": []}, path  # fmt: skip
    assert [(e["step"], e["epoch"], e["outcome"]) for e in record["history"]] == [
        ("agent-cancel", "<task epoch>", f"1 cancelled at the request of {OPERATOR} (api)"),
        ("control-api", "<task epoch>", f"{seed.AGENT_NS}/<run>: {ACKNOWLEDGED}"),
    ], path
    assert record["history"][0]["delivery"] == CORRELATION, path
    assert set(record["deliveries"].values()) <= {"accepted", "replied"}, path


def _data(found: Round, **changes: object) -> Round:
    """The round as if its path had sent ``changes`` in the event's data."""

    def changed(event: Envelope) -> Envelope:
        data = {**json.loads(event.data or b"{}"), **changes}
        return Envelope(event.attributes, json.dumps(data).encode())

    return _requested(found, changed)


def _attributes(found: Round, **changes: str | None) -> Round:
    """The round as if its path's event had these attributes (None: without it)."""
    return _requested(found, lambda event: event.replace(changes))


def _requested(found: Round, change: Callable[[Envelope], Envelope]) -> Round:
    events = tuple(change(e) if e.type == REQUESTED else e for e in found.events)
    return replace(found, events=events)


def _left_requested(found: Round) -> Round:
    after = found.after.model_copy(deep=True)
    key = f"{seed.AGENT_NS}/{found.facts.run}"
    after.put_cancellation(after.cancellations[key].model_copy(update={"status": "requested"}))
    return replace(found, after=after)


MUTATIONS: dict[str, Callable[[Round], Round]] = {
    "another requested_by": lambda r: _data(r, requested_by="operator:bob"),
    "another origin": lambda r: _data(r, origin="cli"),
    "the reason altered": lambda r: _data(r, reason=r.facts.reason.upper()),
    "the epoch as a string": lambda r: _data(r, epoch=str(r.facts.epoch)),
    "no traceparent": lambda r: _attributes(r, traceparent=None),
    "an id of its own": lambda r: _attributes(
        r, id=f"api:{TASK}:{uuid.uuid4().hex}:cancellation.requested"
    ),
    "its run left requested": _left_requested,
}


def _each_path_can_fail(rounds: dict[str, Round], records: dict[str, dict[str, Any]]) -> None:
    """Had any one path done any of MUTATIONS, the comparison would fail naming it."""
    for path, found in rounds.items():
        for what, mutation in MUTATIONS.items():
            mutated = {**records, path: normalise(mutation(found))}
            with pytest.raises(AssertionError) as failed:
                same_everywhere(mutated)
            message = str(failed.value)
            others = ", ".join(p for p in rounds if p != path)
            assert f"\n{path} differs from {others}:\n" in message, (what, message)
            assert "\n+" in message and "\n-" in message, (what, message)
