"""The broker's HTTP ingress: CloudEvents in, 202 out, delivery in the background.

Accepts ``POST /`` and ``POST /<namespace>/<broker>`` (the path Knative's ingress
serves) in binary or structured mode and answers 202 as soon as the event is queued, so
a sender (webhook-gateway answering GitHub within 10 s) never waits for subscribers.
Anything that is not a valid CloudEvent gets 400 with a JSON reason, an event whose
TTL ran out gets 400 as on Knative, other paths 404, other methods 405.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from remedy.local.broker.envelopes import MalformedCloudEvent, NotACloudEvent, parse
from remedy.local.broker.routing import Router, TTLExhausted

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

log = logging.getLogger("remedy.local.broker")

ALLOW = "POST, OPTIONS"
MAX_BODY_BYTES = 32 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; the gateway forwards them whole."""


def _error(status: int, reason: str, **headers: str) -> Response:
    return Response(
        json.dumps({"error": reason}), status=status, mimetype="application/json", headers=headers
    )


class Ingress:
    def __init__(self, *, router: Router, namespace: str | None, broker: str) -> None:
        self._router = router
        path = f"/{namespace or 'default'}/{broker}"
        self._paths = {"/", path, path + "/"}

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        request.max_content_length = MAX_BODY_BYTES
        return self._handle(request)(environ, start_response)

    def _handle(self, request: Request) -> Response:
        if request.method == "GET" and request.path == "/healthz":
            return Response("ok", mimetype="text/plain")
        if request.path not in self._paths:
            return _error(404, f"no broker at {request.path}; post to one of {sorted(self._paths)}")
        if request.method == "OPTIONS":
            return Response(status=200, headers={"Allow": ALLOW, "WebHook-Allowed-Origin": "*"})
        if request.method != "POST":
            return _error(405, f"{request.method} is not allowed; POST a CloudEvent", Allow=ALLOW)
        try:
            body = request.get_data(cache=False)
        except RequestEntityTooLarge:
            return _error(413, f"event larger than {MAX_BODY_BYTES} bytes")
        try:
            event = parse(dict(request.headers.items()), body)
        except (NotACloudEvent, MalformedCloudEvent) as exc:
            return _error(400, str(exc))
        try:
            self._router.accept(event, "ingress")
        except TTLExhausted as exc:
            log.warning("ingress refused %s: %s", event.id, exc)
            return _error(400, str(exc))
        return Response(status=202)
