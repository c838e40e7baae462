"""The paths every function answers before its own work: ``/healthz`` and ``/metrics``.

Each function's edge asks :func:`answer` first; ``None`` means the request is the
function's own. What each path answers, and why neither waits on anything outside the
process, is in :mod:`remedy.handlers.common.health` and :mod:`remedy.handlers.common.scrape`.
"""

from __future__ import annotations

from collections.abc import Callable

import flask

from remedy.handlers.common import health, scrape


def answer(
    request: flask.Request, build: Callable[[], object], *, function: str
) -> flask.Response | None:
    """The answer to a probe or a scrape; ``None`` for any other request."""
    if health.is_probe(request):
        return health.answer(request, build, function=function)
    if scrape.is_scrape(request):
        return scrape.answer(request)
    return None
