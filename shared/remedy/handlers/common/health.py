"""``GET /healthz`` on every function: 200 once its configuration parsed, else 503.

The probe builds what the function's first request would (its handler, through the
function's cached factory: configuration parsed, clients constructed) and calls out to
nothing — no Redis, Kubernetes, GitHub or broker request — so an outage elsewhere never
makes Knative restart or unroute a healthy function. When the configuration is bad the
probe answers 503 naming the variable, as a request would fail: Knative's readiness
probe then keeps the revision from ever becoming ready (traffic stays on the last good
one) and the log names what to fix, once per process. Building on the probe also means
the first request does not pay for it: on a cold start Knative probes before routing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import flask

from remedy import logs, traces
from remedy.handlers.common.http import json_response

log = logging.getLogger("remedy.health")

HEALTH_PATH = "/healthz"

_reported: set[tuple[str, str]] = set()
_lock = threading.Lock()


def is_probe(request: flask.Request) -> bool:
    return request.path.rstrip("/") == HEALTH_PATH


def answer(request: flask.Request, build: Callable[[], object], *, function: str) -> flask.Response:
    """The answer to a request for :data:`HEALTH_PATH` (see the module docstring)."""
    if request.method not in ("GET", "HEAD"):
        message = f"{HEALTH_PATH} takes GET"
        return json_response(405, {"error": "method_not_allowed", "message": message})
    try:
        build()
        traces.prepare(function)
    except Exception as exc:
        message = _report(function, exc)
        body = {"status": "misconfigured", "function": function, "message": message}
        return json_response(503, body)
    return json_response(200, {"status": "ok", "function": function})


def _report(function: str, exc: Exception) -> str:
    """What to say about ``exc``: a configuration error's own message (it names the
    variable, never a value that is secret), else its type; logged once per process."""
    if isinstance(exc, ValueError):
        message = logs.redact(f"{function} is misconfigured: {exc}")
    else:
        message = f"{function} could not start ({type(exc).__name__}); see its log"
    with _lock:
        first = (function, message) not in _reported
        _reported.add((function, message))
    if first:
        log.error("%s", message, exc_info=not isinstance(exc, ValueError))
    return message
