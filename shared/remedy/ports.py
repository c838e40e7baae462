"""Narrow ports the handlers depend on.

Handlers take these Protocols, never a client library: the Redis adapters, the HTTP
broker client and the in-memory versions used in unit tests all fit without
inheriting from anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
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


class RetryLater(RuntimeError):
    """Transient: the same event delivered again later can succeed (HTTP 409/503)."""

    status = 503


class Rejected(ValueError):
    """Permanent: the event can never succeed as sent (HTTP 4xx, dead-lettered)."""

    status = 400


class Steps(Protocol):
    """Recovery points of one piece of multi-step work, as recorded in the ledger."""

    def get(self, step: str) -> Mapping[str, Any] | None:
        """The recorded output of ``step``, or None when it has not completed."""

    def record(self, step: str, output: Mapping[str, Any]) -> None:
        """Record ``step`` as completed with ``output`` (the new recovery point)."""


class Idempotency(Protocol):
    """Exactly-once in effect: run work to completion once per key, replay it after."""

    def once(
        self,
        *,
        source: str,
        event_id: str,
        fingerprint: str,
        work: Callable[[Steps], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run ``work`` for (source, id) unless it completed before; return its result.

        A retry after a crash resumes with the recorded steps. Raises :class:`RetryLater`
        while another holder works on the same key, and :class:`Rejected` when the key
        was seen with a different payload fingerprint.
        """


class Epochs(Protocol):
    """Per-task epochs: strictly increasing numbers, a newer one supersedes older work."""

    def next(self, name: str) -> int: ...
