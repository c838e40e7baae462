"""webhook-gateway's core: verify a raw GitHub webhook and forward it losslessly.

Why a gateway instead of only GitHubSource: GitHubSource checks just the SHA-1
signature and re-serialises the body into a lossy struct. The gateway verifies
``X-Hub-Signature-256`` in constant time, then forwards GitHub's raw body as the event
data with exactly GitHubSource's attributes, so everything downstream accepts both.

GitHub is answered 202 only once the broker has accepted the event; when it has not,
GitHub gets a 5xx and can redeliver, never a false 202.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from cloudevents.http import CloudEvent
from werkzeug.datastructures import Headers

from remedy.domain import signatures
from remedy.domain.identifiers import InvalidIdentifier, validate_delivery_id
from remedy.events import github_source, tracing
from remedy.ports import EventSink, SinkError

log = logging.getLogger("remedy.gateway")

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; anything larger is not GitHub."""

_EVENT_NAME = re.compile(r"^[a-z][a-z_]{0,63}$")


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)


def _error(status: int, error: str, message: str, **headers: str) -> Response:
    return Response(status, {"error": error, "message": message}, dict(headers))


def too_large() -> Response:
    return _error(413, "payload_too_large", f"webhook bodies are limited to {MAX_BODY_BYTES} bytes")


def method_not_allowed(method: str) -> Response:
    return _error(
        405, "method_not_allowed", f"{method} is not supported: GitHub POSTs webhooks", Allow="POST"
    )


class Gateway:
    def __init__(self, *, secrets: tuple[bytes, ...], sink: EventSink) -> None:
        self._secrets = secrets
        self._sink = sink

    def handle(self, headers: Headers, body: bytes) -> Response:
        """Handle one POSTed webhook whose body is within the size limit."""
        if not signatures.verify(self._secrets, body, headers.get("X-Hub-Signature-256")):
            return _error(
                401,
                "bad_signature",
                "missing or invalid X-Hub-Signature-256: check the webhook secret on GitHub",
            )
        github_event = headers.get("X-GitHub-Event", "")
        delivery = headers.get("X-GitHub-Delivery", "")
        if not _EVENT_NAME.match(github_event):
            return _error(400, "bad_event_header", "X-GitHub-Event is missing or malformed")
        try:
            validate_delivery_id(delivery)
        except InvalidIdentifier as exc:
            return _error(400, "bad_delivery_header", f"X-GitHub-Delivery: {exc}")
        try:
            payload = json.loads(body)
        except ValueError as exc:
            return _error(400, "bad_json", f"the body is not JSON: {exc}")
        if not isinstance(payload, dict):
            return _error(400, "bad_json", "the body is JSON but not an object")
        if github_event == "ping":
            log.info("ping from hook %s", payload.get("hook_id"))
            return Response(200, {"status": "pong", "zen": payload.get("zen", "")})
        return self._forward(github_event, delivery, payload, body)

    def _forward(
        self, github_event: str, delivery: str, payload: dict[str, Any], body: bytes
    ) -> Response:
        repository = payload.get("repository")
        full_name = repository.get("full_name") if isinstance(repository, dict) else None
        if not isinstance(full_name, str) or "/" not in full_name:
            log.info("ignored %s: the payload names no repository", github_event)
            return Response(202, {"status": "ignored", "reason": "payload names no repository"})
        subject, extensions = github_source.subject_and_extensions(github_event, payload)
        attributes: dict[str, Any] = {
            "type": github_source.event_type(github_event),
            "source": f"https://github.com/{full_name}",
            "id": delivery,
            "datacontenttype": "application/json",
            "traceparent": tracing.start(delivery),
            **extensions,
        }
        if subject:
            attributes["subject"] = subject
        event = CloudEvent(attributes, body)
        try:
            self._sink.send(event)
        except SinkError as exc:
            log.warning("broker did not accept %s: %s", github_event, exc)
            return _error(
                502, "broker_unavailable", f"event not accepted downstream, redeliver: {exc}"
            )
        log.info("forwarded %s for %s", github_event, full_name)
        return Response(202, {"status": "accepted", "id": delivery})
