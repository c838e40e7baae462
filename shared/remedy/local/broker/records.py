"""What the local broker did, for tests and for ``remedy up``'s status output.

Deliveries are concurrent, so tests cannot sleep and look: they wait on a condition
with a deadline (:meth:`Records.wait_for`), which every new record re-checks. The
records are append-only and the lists returned are copies, so readers never see a
half-written state. Each kind keeps its most recent ``history`` entries, so a
long-running ``remedy up`` does not grow without bound.
"""

from __future__ import annotations

import enum
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from remedy.local.broker.envelopes import Envelope

_T = TypeVar("_T")


class Outcome(enum.StrEnum):
    ACCEPTED = "accepted"
    """2xx without a reply event."""
    REPLIED = "replied"
    """2xx carrying a CloudEvent, which re-entered the broker."""
    RETRY = "retry"
    """The attempt failed and another one is scheduled."""
    FAILED = "failed"
    """The delivery gave up: retries exhausted or a status that is not retried."""


@dataclass(frozen=True)
class DeliveryRecord:
    event_id: str
    event_type: str
    trigger: str
    attempt: int
    status: int | None
    outcome: Outcome
    target: str
    error: str | None = None
    at: float = field(default_factory=time.monotonic)
    """time.monotonic() when the attempt ended."""


@dataclass(frozen=True)
class DeadLetterRecord:
    event: Envelope
    """The event as sent to the sink, with the knativeerror* extensions."""
    trigger: str
    target: str
    delivered: bool
    status: int | None


@dataclass(frozen=True)
class DropRecord:
    event: Envelope
    reason: str


DEFAULT_HISTORY = 100_000


class Records:
    def __init__(self, *, history: int = DEFAULT_HISTORY) -> None:
        self._changed = threading.Condition(threading.RLock())
        self._deliveries: deque[DeliveryRecord] = deque(maxlen=history)
        self._dead_letters: deque[DeadLetterRecord] = deque(maxlen=history)
        self._drops: deque[DropRecord] = deque(maxlen=history)
        self._accepted: deque[Envelope] = deque(maxlen=history)
        self._in_flight = 0

    def _append(self, target: deque[_T], item: _T) -> None:
        with self._changed:
            target.append(item)
            self._changed.notify_all()

    def accepted(self, event: Envelope) -> None:
        self._append(self._accepted, event)

    def delivery(self, record: DeliveryRecord) -> None:
        self._append(self._deliveries, record)

    def dead_letter(self, record: DeadLetterRecord) -> None:
        self._append(self._dead_letters, record)

    def drop(self, record: DropRecord) -> None:
        self._append(self._drops, record)

    def job_started(self) -> None:
        with self._changed:
            self._in_flight += 1

    def job_finished(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    @property
    def in_flight(self) -> int:
        """Deliveries started and not yet finished (including scheduled retries)."""
        with self._changed:
            return self._in_flight

    def events(self) -> list[Envelope]:
        """Every event ingress (or a reply) accepted, in arrival order."""
        with self._changed:
            return list(self._accepted)

    def deliveries(
        self, *, trigger: str | None = None, event_id: str | None = None
    ) -> list[DeliveryRecord]:
        with self._changed:
            return [
                r
                for r in self._deliveries
                if (trigger is None or r.trigger == trigger)
                and (event_id is None or r.event_id == event_id)
            ]

    def dead_letters(self) -> list[DeadLetterRecord]:
        with self._changed:
            return list(self._dead_letters)

    def drops(self) -> list[DropRecord]:
        with self._changed:
            return list(self._drops)

    def wait_for(self, predicate: Callable[[Records], bool], *, timeout: float = 10.0) -> None:
        """Block until ``predicate(self)`` holds; TimeoutError after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(
                        f"broker condition not met within {timeout}s; "
                        f"{len(self._deliveries)} deliveries, {len(self._dead_letters)} "
                        f"dead letters, {len(self._drops)} drops, {self._in_flight} in flight"
                    )
                self._changed.wait(remaining)

    def wait_idle(self, *, timeout: float = 10.0) -> None:
        """Block until no delivery is running or scheduled."""
        self.wait_for(lambda records: records.in_flight == 0, timeout=timeout)
