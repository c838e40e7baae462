"""Asking for a task's review agents to be cancelled, through control-api.

A person or an agent POSTs a reason; control-api announces it as
``dev.remedy.cancellation.requested`` (origin ``api``) on the broker, and agent-cancel
does the cancelling under the task's lock like for a push — control-api itself stops
nothing here, so the one place that decides what is obsolete stays agent-cancel.

The event carries the task's current epoch and its newest known head (the one with the
highest epoch), so a task remedy has never seen a push for (no state, no heads) is
refused with 409: there is nothing to cancel against yet. An ``Idempotency-Key``
header makes a retried request produce the same event id, so it is handled once.
"""

from __future__ import annotations

import uuid
from typing import Any

from cloudevents.http import CloudEvent
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remedy import untrusted_json
from remedy.domain import push_order
from remedy.domain.identifiers import InvalidIdentifier, Repository, validate_delivery_id
from remedy.domain.remediation import RemediationState
from remedy.events import tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import CancellationRequested
from remedy.handlers.control.auth import Principal
from remedy.handlers.control.results import bad_request, conflict

PRODUCER = "control-api"
MAX_KEY_LENGTH = 100
"""Room for the ``api:<task>:`` prefix within a correlation id's 128 characters."""


class CancelBody(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    repository: str | None = Field(default=None, description="owner/name; the task's if omitted")
    reason: str = Field(min_length=1, max_length=500)


def parse_body(body: bytes) -> CancelBody:
    try:
        raw = untrusted_json.loads(body or b"null")
    except untrusted_json.NotJson as exc:
        raise bad_request(f'the body is not JSON ({exc}): send {{"reason": "..."}}') from None
    if not isinstance(raw, dict):
        raise bad_request('the body must be a JSON object such as {"reason": "..."}')
    try:
        parsed = CancelBody.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors()
        )
        raise bad_request(f"invalid body: {problems}") from None
    if parsed.repository is not None:
        try:
            Repository.parse(parsed.repository)
        except InvalidIdentifier as exc:
            raise bad_request(str(exc)) from None
    return parsed


def correlation_for(task_id: int, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return f"api:{task_id}:{uuid.uuid4().hex}"
    if len(idempotency_key) > MAX_KEY_LENGTH:
        raise bad_request(f"Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
    try:
        return validate_delivery_id(f"api:{task_id}:{idempotency_key}")
    except InvalidIdentifier:
        raise bad_request("Idempotency-Key may hold only letters, digits and '._:-'") from None


def cancellation_event(
    state: RemediationState | None,
    *,
    task_id: int,
    request: CancelBody,
    caller: Principal,
    correlation_id: str,
) -> CloudEvent:
    newest = push_order.newest(state.pushes) if state is not None else None
    if state is None or newest is None or state.epoch < 1:
        raise conflict(
            f"task {task_id} has no remediation yet (no push seen): nothing to cancel against"
        )
    if request.repository is not None and request.repository.lower() != state.repository.lower():
        raise conflict(f"task {task_id} belongs to {state.repository}, not {request.repository}")
    data = CancellationRequested(
        task_id=task_id,
        repository=state.repository,
        pr_number=state.pr_number,
        head_sha=newest.after,
        correlation_id=correlation_id,
        epoch=state.epoch,
        reason=request.reason,
        requested_by=caller.label,
        origin="api",
    )
    return task_event(
        data,
        producer=PRODUCER,
        event_id=event_id(correlation_id, "cancellation.requested"),
        traceparent=tracing.start(correlation_id),
    )


def accepted(event: CloudEvent) -> dict[str, Any]:
    return {
        "event_id": event["id"],
        "type": event["type"],
        "correlation_id": event.get_attributes()["correlationid"],
        "epoch": int(event.get_attributes()["epoch"]),
    }
