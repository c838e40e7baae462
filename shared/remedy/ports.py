"""Narrow ports the handlers depend on.

Handlers take these Protocols, never a client library: the Redis adapters, the HTTP
broker client and the in-memory versions used in unit tests all fit without
inheriting from anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from cloudevents.http import CloudEvent


class EventSink(Protocol):
    """Where events go next: the broker ingress (K_SINK) on Knative and locally."""

    def send(self, event: CloudEvent) -> None:
        """Deliver ``event``; raise :class:`SinkError` unless the sink accepted it."""


class SinkError(RuntimeError):
    """The sink did not accept an event (non-2xx, timeout, connection error)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


JSON = Mapping[str, Any]
