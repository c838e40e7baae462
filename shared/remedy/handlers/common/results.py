"""What a CloudEvent handler decides: reply with a next event, or acknowledge and stop."""

from __future__ import annotations

from dataclasses import dataclass

from cloudevents.http import CloudEvent


@dataclass(frozen=True)
class Reply:
    """Answer 200 with ``event`` in binary mode; the broker routes it onward."""

    event: CloudEvent


@dataclass(frozen=True)
class Ack:
    """Answer 202 with an empty body: taken, nothing follows. ``reason`` is logged."""

    reason: str


Outcome = Reply | Ack
