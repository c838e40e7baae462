"""Helpers for the broker tests: scripted subscriber servers and a CloudEvent sender.

Subscribers are real HTTP servers (remedy.local.http_server) whose answers each test
scripts; every request they get is recorded, and tests wait for requests with a
deadline (:func:`tests.support.waiting.eventually`) instead of sleeping.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests
from werkzeug.wrappers import Request, Response

from remedy.local.broker.envelopes import Envelope, parse
from remedy.local.http_server import ServedApp, serve_in_thread
from tests.support.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

DATA = Path(__file__).parent / "data"
TOPOLOGY = DATA / "topology"
SUBSCRIBERS = ("sub-a", "sub-b", "sub-c", "sub-loop", "dead-letters")
POLL_S = 0.005
"""How often a test looks at a subscriber's requests (in-process: cheap, so often)."""
_ids = itertools.count(1)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> Envelope:
        return parse(self.headers, self.body)


Responder = Callable[[Received], Response]


def status(code: int, body: bytes = b"", content_type: str = "text/plain") -> Responder:
    return lambda _: Response(body, status=code, content_type=content_type)


def answers(*responders: Responder) -> Responder:
    """Answer with each responder in turn; the last one repeats."""
    lock = threading.Lock()
    remaining = list(responders)

    def respond(request: Received) -> Response:
        with lock:
            current = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return current(request)

    return respond


def reply(
    event_type: str, *, mode: str = "binary", status_code: int = 200, data: Any = None
) -> Responder:
    """Answer with a CloudEvent reply (a fresh id each time)."""

    def respond(_: Received) -> Response:
        event_id = f"reply-{next(_ids)}"
        payload = {"n": 1} if data is None else data
        if mode == "binary":
            headers = {
                "ce-specversion": "1.0",
                "ce-id": event_id,
                "ce-source": "/test/replier",
                "ce-type": event_type,
            }
            return Response(
                json.dumps(payload),
                status=status_code,
                headers=headers,
                mimetype="application/json",
            )
        body = {
            "specversion": "1.0",
            "id": event_id,
            "source": "/test/replier",
            "type": event_type,
            "datacontenttype": "application/json",
            "data": payload,
        }
        return Response(
            json.dumps(body), status=status_code, content_type="application/cloudevents+json"
        )

    return respond


class Subscriber:
    """A Knative Service stand-in: records requests, answers as scripted."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.responder: Responder = status(202)
        self._received: list[Received] = []
        self._lock = threading.Lock()
        self.served: ServedApp = serve_in_thread(self)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        received = Received(
            request.path,
            {k.lower(): v for k, v in request.headers.items()},
            request.get_data(),
        )
        with self._lock:
            self._received.append(received)
        return self.responder(received)(environ, start_response)

    @property
    def url(self) -> str:
        return self.served.url

    def reset(self) -> None:
        """Forget requests and answer 202 again (between tests sharing the server)."""
        with self._lock:
            self._received.clear()
        self.responder = status(202)

    @property
    def received(self) -> list[Received]:
        with self._lock:
            return list(self._received)

    def wait_for(self, count: int, *, timeout: float = 10.0) -> list[Received]:
        """The requests received so far, once there are at least ``count`` (>= 1)."""

        def arrived() -> list[Received] | None:
            received = self.received
            return received if len(received) >= count else None

        return eventually(
            arrived,
            timeout=timeout,
            every=POLL_S,
            what=f"{count} requests to {self.name}",
            describe=lambda: f"{self.name} got {len(self.received)} requests, expected {count}",
        )


def send(
    url: str,
    event_type: str,
    *,
    event_id: str | None = None,
    mode: str = "binary",
    extensions: dict[str, str] | None = None,
    data: bytes = b'{"hello": "world"}',
) -> requests.Response:
    """Post a CloudEvent to the broker ingress."""
    event_id = event_id or f"event-{next(_ids)}"
    if mode == "binary":
        headers = {
            "ce-specversion": "1.0",
            "ce-id": event_id,
            "ce-source": "/test/sender",
            "ce-type": event_type,
            "content-type": "application/json",
            **{f"ce-{k}": v for k, v in (extensions or {}).items()},
        }
        return requests.post(url, data=data, headers=headers, timeout=10)
    body = {
        "specversion": "1.0",
        "id": event_id,
        "source": "/test/sender",
        "type": event_type,
        **(extensions or {}),
        "data_base64": base64.b64encode(data).decode(),
    }
    return requests.post(
        url,
        data=json.dumps(body),
        headers={"content-type": "application/cloudevents+json; charset=utf-8"},
        timeout=10,
    )


def urls(subscribers: dict[str, Subscriber]) -> dict[str, str]:
    return {name: s.url for name, s in subscribers.items()}
