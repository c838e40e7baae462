"""webhook-gateway's core: verify a raw GitHub webhook and forward it losslessly.

Why a gateway instead of only GitHubSource: GitHubSource checks just the SHA-1
signature and re-serialises the body into a lossy struct. The gateway verifies
``X-Hub-Signature-256`` in constant time, then forwards GitHub's raw JSON as the event
data with exactly GitHubSource's attributes, so everything downstream accepts both.

GitHub posts a webhook in one of two content types, chosen in the webhook's settings:
``application/json`` (the body is the JSON document) or
``application/x-www-form-urlencoded`` (the document is the form's ``payload`` field).
The signature covers the raw body either way; the event data is the JSON document's
bytes, ``application/json``, so downstream sees the same event whichever GitHub used.
Other content types get 415; a body that is not JSON (or nests deeper than
:data:`remedy.untrusted_json.MAX_DEPTH`) gets 400.

GitHub is answered 202 only once the broker has accepted the event; when it has not,
GitHub gets a 5xx and can redeliver, never a false 202.
"""

from __future__ import annotations

import logging
import re
import urllib.parse
from typing import Any

from cloudevents.http import CloudEvent
from werkzeug.datastructures import Headers
from werkzeug.http import parse_options_header

from remedy import untrusted_json
from remedy.domain import signatures
from remedy.domain.identifiers import InvalidIdentifier, validate_delivery_id
from remedy.events import github_source, tracing
from remedy.handlers.common.http import JSON_TYPE, Response
from remedy.ports import EventSink, SinkError

log = logging.getLogger("remedy.gateway")

MAX_BODY_BYTES = 25 * 1024 * 1024
"""GitHub caps webhook payloads at 25 MB; anything larger is not GitHub."""

_EVENT_NAME = re.compile(r"^[a-z][a-z_]{0,63}$")
FORM_TYPE = "application/x-www-form-urlencoded"


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
        document = json_document(headers.get("Content-Type"), body)
        if isinstance(document, Response):
            return document
        where = "the body" if document is body else "the payload field"  # a form's is new
        try:
            payload = untrusted_json.loads(document)
        except untrusted_json.NotJson as exc:
            return _error(400, "bad_json", f"{where} is not JSON: {exc}")
        if not isinstance(payload, dict):
            return _error(400, "bad_json", f"{where} is JSON but not an object")
        if github_event == "ping":
            log.info("ping from hook %s", payload.get("hook_id"))
            return Response(200, {"status": "pong", "zen": payload.get("zen", "")})
        return self._forward(github_event, delivery, payload, document)

    def _forward(
        self, github_event: str, delivery: str, payload: dict[str, Any], document: bytes
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
        event = CloudEvent(attributes, document)
        try:
            self._sink.send(event)
        except SinkError as exc:
            log.warning("broker did not accept %s: %s", github_event, exc)
            return _error(
                502, "broker_unavailable", f"event not accepted downstream, redeliver: {exc}"
            )
        log.info("forwarded %s for %s", github_event, full_name)
        return Response(202, {"status": "accepted", "id": delivery})


def json_document(content_type: str | None, body: bytes) -> bytes | Response:
    """The JSON document in a webhook ``body`` of ``content_type``, or the answer refusing it."""
    # No Content-Type is read as JSON: GitHub always sends one, but the gateway once
    # ignored the header, and senders written against it (scripts, replays) may omit it.
    media_type = parse_options_header(content_type)[0].lower() if content_type else JSON_TYPE
    if media_type == JSON_TYPE:
        return body
    if media_type == FORM_TYPE:
        return _form_payload(body)
    return _error(
        415,
        "unsupported_media_type",
        f"Content-Type {media_type[:100]!r} is not a webhook body: GitHub sends "
        f"{JSON_TYPE} or {FORM_TYPE} (the webhook's content type setting)",
        **{"Accept-Post": f"{JSON_TYPE}, {FORM_TYPE}"},
    )


def _form_payload(body: bytes) -> bytes | Response:
    # latin-1 maps each byte to one character and back, so the payload's (UTF-8) bytes,
    # percent-encoded or not, come out exactly as GitHub serialised them
    fields = urllib.parse.parse_qs(
        body.decode("latin-1"), keep_blank_values=True, encoding="latin-1", errors="strict"
    )
    payloads = fields.get("payload", [])
    if len(payloads) != 1:
        problem = "no payload field" if not payloads else "more than one payload field"
        return _error(
            400,
            "bad_form",
            f"the form has {problem}: GitHub sends the webhook's JSON as payload=<json>",
        )
    return payloads[0].encode("latin-1")
