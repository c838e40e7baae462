"""Sending CloudEvents to the broker ingress (K_SINK) over HTTP.

Binary content mode, a pooled keep-alive session, and a timeout well inside GitHub's
10-second webhook deadline: anything but a 2xx raises :class:`SinkError`, so callers
never report success for an event the broker did not take.
"""

from __future__ import annotations

import requests
from cloudevents.http import CloudEvent
from requests.adapters import HTTPAdapter

from remedy.events.codec import encode_binary
from remedy.ports import SinkError

DEFAULT_TIMEOUT_S = 5.0


class HttpEventSink:
    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"K_SINK {url!r} is not an http(s) URL")
        self.url = url
        self._timeout_s = timeout_s
        self._session = requests.Session()
        self._session.mount("http://", HTTPAdapter(pool_connections=4, pool_maxsize=64))
        self._session.mount("https://", HTTPAdapter(pool_connections=4, pool_maxsize=64))

    def send(self, event: CloudEvent) -> None:
        headers, body = encode_binary(event)
        try:
            response = self._session.post(
                self.url, headers=headers, data=body, timeout=self._timeout_s
            )
        except requests.RequestException as exc:
            raise SinkError(f"{type(exc).__name__} posting to the broker") from exc
        if not 200 <= response.status_code < 300:
            raise SinkError(
                f"the broker answered {response.status_code}: {response.text[:200]}",
                status=response.status_code,
            )

    def close(self) -> None:
        self._session.close()
