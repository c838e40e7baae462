"""The HTTP edge shared by every function: Flask request in, status code out.

functions-framework's ``@cloud_event`` decorator always answers ``200 "OK"``, which a
Knative broker counts as a failed delivery (a 2xx that is not a CloudEvent) and retries
forever. So functions use the ``http`` signature and this module answers the way the
broker understands: 200 + a binary-mode CloudEvent (a reply), 202 with an empty body
(taken, nothing follows), 4xx (rejected: not retried, dead-lettered with the reason),
409/503 (retry later), 500 (unexpected; retried).
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

from remedy import logs
from remedy.domain.identifiers import InvalidIdentifier, validate_delivery_id
from remedy.events.codec import BadEvent, decode, encode_binary
from remedy.events.github import UnreadableEvent
from remedy.handlers.common.http import Response, json_response, read_limited, to_flask
from remedy.handlers.common.results import Outcome, Reply
from remedy.handlers.gateway import MAX_BODY_BYTES, Gateway, method_not_allowed, too_large
from remedy.ports import Rejected, RetryLater

log = logging.getLogger("remedy.entry")

_REJECTED = (BadEvent, UnreadableEvent, InvalidIdentifier, ValidationError, Rejected)


class CloudEventHandler(Protocol):
    def handle(self, event: CloudEvent) -> Outcome: ...


def _error(status: int, error: str, message: str) -> flask.Response:
    return json_response(status, {"error": error, "message": message})


def _respond(outcome: Outcome) -> flask.Response:
    if isinstance(outcome, Reply):
        headers, body = encode_binary(outcome.event)
        log.info("reply %s %s", outcome.event["type"], outcome.event["id"])
        return flask.Response(body, status=200, headers=headers)
    log.info("acknowledged: %s", outcome.reason)
    return flask.Response(b"", status=202)


def cloudevent_function(
    factory: Callable[[], CloudEventHandler], *, name: str
) -> Callable[[flask.Request], flask.Response]:
    """A functions-framework ``http`` entry point over a CloudEvent handler.

    ``factory`` builds the handler (and its adapters) once, on the first request, so
    importing a function never needs its environment.
    """
    logs.configure()
    handler = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        if request.method != "POST":
            return _error(405, "method_not_allowed", f"{name} takes CloudEvents by POST")
        correlation = request.headers.get("ce-correlationid") or request.headers.get("ce-id")
        with logs.delivery_context(correlation):
            try:
                event = decode(dict(request.headers), request.get_data())
            except BadEvent as exc:
                log.warning("rejected: %s", exc)
                return _error(400, "bad_event", str(exc))
            with logs.delivery_context(_correlation_of(event)):
                return _dispatch(handler(), event)

    handle.__name__ = "handle"
    return handle


def _correlation_of(event: CloudEvent) -> str:
    attributes = event.get_attributes()
    return str(attributes.get("correlationid") or attributes.get("id"))


def _dispatch(handler: CloudEventHandler, event: CloudEvent) -> flask.Response:
    try:
        return _respond(handler.handle(event))
    except _REJECTED as exc:
        log.warning("rejected %s %s: %s", event["type"], event["id"], exc)
        status = exc.status if isinstance(exc, Rejected) else 400
        return _error(status, "rejected", str(exc))
    except RetryLater as exc:
        log.info("retry later %s %s: %s", event["type"], event["id"], exc)
        response = _error(exc.status, "retry_later", str(exc))
        wait = getattr(exc, "retry_after_s", None)
        if isinstance(wait, int | float) and wait > 0:
            # Knative honours Retry-After on 429/503 (delivery.retryAfterMax)
            response.headers["Retry-After"] = str(math.ceil(wait))
        return response
    except Exception:
        log.exception("failed %s %s", event["type"], event["id"])
        return _error(500, "internal", "unexpected failure; the delivery will be retried")


def webhook_function(factory: Callable[[], Gateway]) -> Callable[[flask.Request], flask.Response]:
    """The webhook-gateway entry point: size limits before the body is read."""
    logs.configure()
    gateway = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        delivery = request.headers.get("X-GitHub-Delivery", "")
        with logs.delivery_context(_loggable(delivery)):
            result = _webhook(gateway(), request)
            if result.status >= 400:
                log.info("answered %s: %s", result.status, result.body.get("message"))
            return to_flask(result)

    handle.__name__ = "handle"
    return handle


def _loggable(delivery: str) -> str | None:
    """The delivery id for log lines, unless it is malformed (no log injection)."""
    try:
        return validate_delivery_id(delivery)
    except InvalidIdentifier:
        return None


def _webhook(gateway: Gateway, request: flask.Request) -> Response:
    if request.method != "POST":
        return method_not_allowed(request.method)
    body = read_limited(request, MAX_BODY_BYTES)
    if body is None:
        return too_large()
    return gateway.handle(request.headers, body)
