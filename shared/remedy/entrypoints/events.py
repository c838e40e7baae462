"""CloudEvent functions' edge: a broker delivery in, a reply event or a status out.

See :mod:`remedy.entrypoints` for the statuses and what each means to the broker.
"""

from __future__ import annotations

import functools
import logging
import math
from collections.abc import Callable
from typing import Protocol

import flask
from cloudevents.http import CloudEvent
from pydantic import ValidationError

from remedy import logs, metrics, traces
from remedy.domain.identifiers import InvalidIdentifier
from remedy.events import catalogue
from remedy.events.codec import BadEvent, UnreadableEvent, decode, encode_binary
from remedy.handlers.common import builtin
from remedy.handlers.common.http import json_response
from remedy.handlers.common.results import Outcome, Reply
from remedy.ports import Rejected, RetryLater

log = logging.getLogger("remedy.entry")

_REJECTED = (BadEvent, UnreadableEvent, InvalidIdentifier, ValidationError, Rejected)


class CloudEventHandler(Protocol):
    def handle(self, event: CloudEvent) -> Outcome: ...


def _error(status: int, error: str, message: str) -> flask.Response:
    return json_response(status, {"error": error, "message": message})


def _respond(outcome: Outcome, step: traces.Step) -> flask.Response:
    if isinstance(outcome, Reply):
        attributes = outcome.event.get_attributes()
        step.describe(task=attributes.get("taskid"), epoch=attributes.get("epoch"))
        headers, body = encode_binary(outcome.event)
        log.info("reply %s %s", outcome.event["type"], outcome.event["id"])
        step.finish("replied", status_code=200, reply_type=str(outcome.event["type"]))
        return flask.Response(body, status=200, headers=headers)
    log.info("acknowledged: %s", outcome.reason)
    step.finish("acknowledged", status_code=202, reason=outcome.reason)
    return flask.Response(b"", status=202)


def cloudevent_function(
    factory: Callable[[], CloudEventHandler], *, name: str
) -> Callable[[flask.Request], flask.Response]:
    """A functions-framework ``http`` entry point over a CloudEvent handler.

    ``factory`` builds the handler (and its adapters) once, on the first request (or
    the first ``/healthz`` probe), so importing a function never needs its environment.
    """
    logs.configure()
    handler = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        if (answered := builtin.answer(request, handler, function=name)) is not None:
            return answered
        if request.method != "POST":
            return _error(405, "method_not_allowed", f"{name} takes CloudEvents by POST")
        correlation = request.headers.get("ce-correlationid") or request.headers.get("ce-id")
        with logs.context(function=name, delivery=correlation):
            try:
                event = decode(dict(request.headers), request.get_data())
            except BadEvent as exc:
                log.warning("rejected: %s", exc)
                return _error(400, "bad_event", str(exc))
            attributes = event.get_attributes()
            delivery = _correlation_of(event)
            with (
                logs.context(delivery=delivery, task=attributes.get("taskid"),
                             epoch=attributes.get("epoch")),
                traces.step(name, name=_span_name(event),
                            parent=attributes.get("traceparent"), delivery=delivery,
                            attributes=_span_attributes(event)) as step,
                metrics.timed(name, metrics.event_step(str(event["type"])), step),
            ):  # fmt: skip
                step.describe()
                return _dispatch(handler(), event, step)

    handle.__name__ = "handle"
    return handle


def _correlation_of(event: CloudEvent) -> str:
    attributes = event.get_attributes()
    return str(attributes.get("correlationid") or attributes.get("id"))


def _span_name(event: CloudEvent) -> str:
    """``process <type>`` for a catalogued type; span names stay few whatever is sent."""
    kind = str(event["type"])
    return f"process {kind}" if kind in catalogue.BY_TYPE else "process"


def _span_attributes(event: CloudEvent) -> dict[str, str]:
    """The event's CloudEvents attributes, by OpenTelemetry's semantic conventions."""
    attributes = event.get_attributes()
    found = {
        "cloudevents.event_id": attributes.get("id"),
        "cloudevents.event_type": attributes.get("type"),
        "cloudevents.event_source": attributes.get("source"),
        "cloudevents.event_subject": attributes.get("subject"),
    }
    return {key: str(value) for key, value in found.items() if value is not None}


def _dispatch(handler: CloudEventHandler, event: CloudEvent, step: traces.Step) -> flask.Response:
    try:
        return _respond(handler.handle(event), step)
    except _REJECTED as exc:
        log.warning("rejected %s %s: %s", event["type"], event["id"], exc)
        status = exc.status if isinstance(exc, Rejected) else 400
        step.finish("rejected", status_code=status, reason=str(exc))
        return _error(status, "rejected", str(exc))
    except RetryLater as exc:
        log.info("retry later %s %s: %s", event["type"], event["id"], exc)
        step.finish("retry_later", status_code=exc.status, reason=str(exc))
        response = _error(exc.status, "retry_later", str(exc))
        wait = getattr(exc, "retry_after_s", None)
        if isinstance(wait, int | float) and wait > 0:
            # Knative honours Retry-After on 429/503 (delivery.retryAfterMax)
            response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    except Exception as exc:
        log.exception("failed %s %s", event["type"], event["id"])
        step.finish("failed", status_code=500, reason=type(exc).__name__)
        return _error(500, "internal", "unexpected failure; the delivery will be retried")
