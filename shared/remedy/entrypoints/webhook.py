"""webhook-gateway's edge: size limits before the body is read, then the gateway.

Each webhook is the root step of the trace its delivery starts. This module imports no
pydantic and no event models: the gateway verifies and forwards bytes.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable

import flask

from remedy import logs, metrics, traces
from remedy.domain.identifiers import InvalidIdentifier, validate_delivery_id
from remedy.handlers.common import builtin
from remedy.handlers.common.http import Response, read_limited, to_flask
from remedy.handlers.gateway import MAX_BODY_BYTES, Gateway, method_not_allowed, too_large

log = logging.getLogger("remedy.entry")

GATEWAY = "webhook-gateway"


def webhook_function(factory: Callable[[], Gateway]) -> Callable[[flask.Request], flask.Response]:
    """The webhook-gateway entry point: size limits before the body is read. Each
    webhook is the root step of the trace its delivery starts."""
    logs.configure()
    gateway = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        if (answered := builtin.answer(request, gateway, function=GATEWAY)) is not None:
            return answered
        delivery = _loggable(request.headers.get("X-GitHub-Delivery", ""))
        with (
            logs.context(function=GATEWAY, delivery=delivery),
            traces.step(GATEWAY, name="webhook", delivery=delivery, attributes={
                "github.event": request.headers.get("X-GitHub-Event", "")[:64] or None,
            }) as step,
            metrics.timed(GATEWAY, "webhook", step),
        ):  # fmt: skip
            result = _webhook(gateway(), request)
            if result.status >= 400:
                log.info("answered %s: %s", result.status, result.body.get("message"))
            outcome = traces.outcome_of(result.status)
            status = result.body.get("status")
            step.finish(
                outcome, status_code=result.status,
                reason=str(status if outcome == "done" else result.body.get("error")),
            )  # fmt: skip
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
