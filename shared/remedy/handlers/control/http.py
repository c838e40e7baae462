"""control-api's HTTP edge: a functions-framework ``http`` function over :class:`ControlApi`.

Unlike the CloudEvent functions, control-api is called by agents and people, so it
answers plain JSON (and JSON lines for a watch, streamed as chunks). Bodies are small
by nature; anything over 64 KiB is refused before it is read. The core is built on
the first request, so importing the function never needs its environment. The operator
dashboard's static files are served here too, under ``/dashboard/``, without a token
(see :mod:`remedy.handlers.control.dashboard`). ``GET /healthz`` answers the probes,
``GET /metrics`` the scrapes. Each API request is a step (:func:`remedy.traces.step`),
continuing the caller's W3C ``traceparent`` header when it sends one, and timed in the
metrics by its route template (``POST /v1/coderuns/{namespace}/{name}/cancellation/ack``;
``other`` for a path that is none); every acknowledgement is counted by its status.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable

import flask

from remedy import logs, metrics, traces
from remedy.handlers.common import builtin
from remedy.handlers.common.http import Response, read_limited, to_flask
from remedy.handlers.control import api as routes
from remedy.handlers.control.api import ControlApi
from remedy.handlers.control.dashboard import files as dashboard

log = logging.getLogger("remedy.control_api")

NAME = "control-api"
MAX_BODY_BYTES = 64 * 1024
ROUTES = (
    (routes.ACK_PATH, "/v1/coderuns/{namespace}/{name}/cancellation/ack"),
    (routes.CANCELLATIONS_PATH, "/v1/tasks/{task_id}/cancellations"),
    (routes.TASKS_PATH, "/v1/tasks"),
    (routes.TASK_PATH, "/v1/tasks/{task_id}"),
)
"""Each route's template: the metrics' step label, whatever ids the path carries."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def control_function(
    factory: Callable[[], ControlApi],
) -> Callable[[flask.Request], flask.Response]:
    logs.configure()
    api = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        if (answered := builtin.answer(request, api, function=NAME)) is not None:
            return answered
        body = read_limited(request, MAX_BODY_BYTES)
        if body is None:
            return to_flask(_too_large())
        page = dashboard.answer(request)  # the dashboard's files need no token
        if page is not None:
            return page
        route = route_of(request.path)
        with (
            traces.step(NAME, name=request.method[:10],
                        parent=request.headers.get("traceparent")) as step,
            metrics.timed(NAME, step_of(request.method, route), step),
        ):  # fmt: skip
            result = _serve(api, request, body)
            step.finish(traces.outcome_of(result.status), status_code=result.status)
            if route is routes.ACK_PATH and request.method == "POST":
                metrics.acknowledgement(result.status)
            return to_flask(result)

    handle.__name__ = "handle"
    return handle


def route_of(path: str) -> re.Pattern[str] | None:
    return next((pattern for pattern, _ in ROUTES if pattern.match(path)), None)


def step_of(method: str, route: re.Pattern[str] | None) -> str:
    """``METHOD template`` for a route (``other`` for none): bounded whatever is sent."""
    template = next((t for pattern, t in ROUTES if pattern is route), None)
    if template is None:
        return metrics.OTHER
    return f"{method if method in _METHODS else 'OTHER'} {template}"


def _serve(api: Callable[[], ControlApi], request: flask.Request, body: bytes) -> Response:
    query = request.query_string.decode("latin-1")
    target = request.path + (f"?{query}" if query else "")
    try:
        core = api()
    except Exception:
        log.exception("control-api could not start")
        message = "control-api is misconfigured; see its log"
        return Response(500, {"error": "misconfigured", "message": message})
    result = core.handle(request.method, target, headers=dict(request.headers), body=body)
    if result.status >= 400:
        log.info("%s %r → %s %s", request.method[:10], request.path[:200], result.status,
                 result.body.get("error"))  # fmt: skip
    return result


def _too_large() -> Response:
    message = f"request bodies are limited to {MAX_BODY_BYTES} bytes"
    return Response(413, {"error": "payload_too_large", "message": message})
