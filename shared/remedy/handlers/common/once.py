"""Exactly-once in effect for a step: run it once per input event, replay it after.

A step's result is either the reply event it emits or an acknowledgement with a reason;
both are recorded in the idempotency ledger, so a duplicate of the input event gets the
identical outcome without a second effect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from cloudevents.conversion import to_json
from cloudevents.http import CloudEvent, from_json

from remedy.handlers.common.results import Ack, Outcome, Reply
from remedy.ports import Idempotency, Steps


def reply(event: CloudEvent) -> dict[str, Any]:
    return {"event": to_json(event).decode()}


def ack(reason: str) -> dict[str, Any]:
    return {"ack": reason}


def fingerprint_of(data: Any) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def scoped_source(consumer: str, source: str) -> str:
    """The ledger's source for ``consumer``'s handling of events from ``source``.

    Several functions may consume the same event (a review goes to feedback-intake and
    to workflow-resume); each keeps its own record of it.
    """
    return f"{consumer}@{source.lower()}"


def run_once(
    idempotency: Idempotency,
    event: CloudEvent,
    *,
    consumer: str,
    fingerprint: str,
    work: Callable[[Steps], dict[str, Any]],
) -> Outcome:
    result = idempotency.once(
        source=scoped_source(consumer, str(event["source"])),
        event_id=str(event["id"]),
        fingerprint=fingerprint,
        work=work,
    )
    if "event" in result:
        return Reply(from_json(str(result["event"])))
    return Ack(str(result.get("ack", "already done")))
