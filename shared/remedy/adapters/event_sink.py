"""Sending CloudEvents to the broker ingress (K_SINK) over HTTP.

Binary content mode, a pooled keep-alive connection pool, and a timeout well inside
GitHub's 10-second webhook deadline: anything but a 2xx raises :class:`SinkError`, so
callers never report success for an event the broker did not take. No retries and no
redirects here: the broker's delivery (or GitHub's redelivery) retries the whole step.

urllib3 directly, not requests over it: webhook-gateway needs nothing else from
requests, and on a cold start requests' own import costs ~25 ms and its memory.
"""

from __future__ import annotations

import urllib3
from cloudevents.http import CloudEvent

from remedy.events.codec import encode_binary
from remedy.ports import SinkError

DEFAULT_TIMEOUT_S = 5.0


class HttpEventSink:
    def __init__(self, url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"K_SINK {url!r} is not an http(s) URL")
        self.url = url
        self._pool = urllib3.PoolManager(
            num_pools=4,
            maxsize=64,
            retries=False,
            timeout=urllib3.Timeout(total=timeout_s),
        )

    def send(self, event: CloudEvent) -> None:
        headers, body = encode_binary(event)
        try:
            response = self._pool.request("POST", self.url, headers=headers, body=body)
        except urllib3.exceptions.HTTPError as exc:
            raise SinkError(f"{type(exc).__name__} posting to the broker") from exc
        if not 200 <= response.status < 300:
            text = response.data[:200].decode("utf-8", errors="replace")
            raise SinkError(
                f"the broker answered {response.status}: {text}", status=response.status
            )

    def close(self) -> None:
        self._pool.clear()
