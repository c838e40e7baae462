"""``GET /metrics`` on every function: its process's metrics, for Prometheus to scrape.

Served on the function's own port by the same Flask app as its work (functions-framework
routes every path to the function), before anything else is read, like ``/healthz``:
the answer builds nothing and calls nothing, so a scrape neither starts the function's
clients nor waits on Redis, Kubernetes or GitHub. A scrape is no step: it is neither
logged, traced nor counted. Other methods on the path get 405; every other path keeps
the answer it had. What is exposed is :mod:`remedy.metrics`.
"""

from __future__ import annotations

import flask

from remedy import metrics
from remedy.handlers.common.http import json_response

METRICS_PATH = "/metrics"


def is_scrape(request: flask.Request) -> bool:
    return request.path.rstrip("/") == METRICS_PATH


def answer(request: flask.Request) -> flask.Response:
    """The answer to a request for :data:`METRICS_PATH`."""
    if request.method not in ("GET", "HEAD"):
        message = f"{METRICS_PATH} takes GET"
        return json_response(405, {"error": "method_not_allowed", "message": message})
    return flask.Response(metrics.exposition(), status=200, content_type=metrics.CONTENT_TYPE)
