"""W3C trace context for the CloudEvents distributed-tracing extension.

The gateway starts a trace whose id is derived from the GitHub delivery id, so GitHub's
redeliveries of the same delivery land in the same trace; each step that replies opens
a child span (same trace id, new span id).

While a function serves a request, its edge declares the step's own span
(:func:`stepping`, see :mod:`remedy.traces`): then :func:`child` of the step's parent,
and :func:`start` for the delivery whose trace the step roots, give that span's
traceparent, so an event the step emits names the step's span as its parent — the real,
exported span when tracing is on — and the next function's span becomes its child.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_NO_TRACE = "0" * 32
_NO_SPAN = "0" * 16


@dataclass(frozen=True)
class Step:
    """The span of the step being served: ``own``, a child of ``parent`` (a valid
    traceparent), or when there is none the root of ``delivery``'s trace (or of a trace
    of its own when ``delivery`` is None too)."""

    parent: str | None
    delivery: str | None
    own: str


_step: contextvars.ContextVar[Step | None] = contextvars.ContextVar("remedy_step", default=None)


def _span_id() -> str:
    return secrets.token_hex(8)


def delivery_trace_id(delivery_id: str) -> str:
    """The trace id of the trace ``delivery_id`` starts (the same for every redelivery)."""
    return hashlib.sha256(delivery_id.encode()).hexdigest()[:32]


def start(delivery_id: str) -> str:
    step = _step.get()
    if step is not None and step.parent is None and step.delivery == delivery_id:
        return step.own
    return f"00-{delivery_trace_id(delivery_id)}-{_span_id()}-01"


def fresh() -> str:
    """A traceparent starting a trace of its own (a request no delivery started)."""
    return f"00-{secrets.token_hex(16)}-{_span_id()}-01"


def child(traceparent: str | None, *, delivery_id: str) -> str:
    """A child of ``traceparent``, or a new trace when it is missing or malformed."""
    parent = valid(traceparent)
    step = _step.get()
    if step is not None and step.parent == parent and (parent or step.delivery == delivery_id):
        return step.own
    if parent is None:
        return start(delivery_id)
    return f"00-{parent[3:35]}-{_span_id()}-{parent[53:55]}"


def valid(traceparent: str | None) -> str | None:
    """``traceparent`` when it is a usable W3C traceparent (version 00), else None."""
    match = _TRACEPARENT.match(traceparent or "")
    if match is None or match.group(1) == _NO_TRACE or match.group(2) == _NO_SPAN:
        return None
    return match.group(0)


def trace_id(traceparent: str) -> str | None:
    match = _TRACEPARENT.match(traceparent)
    return match.group(1) if match else None


@contextlib.contextmanager
def stepping(step: Step) -> Iterator[None]:
    """Within the block, events emitted for ``step``'s trace name ``step.own`` as parent."""
    token = _step.set(step)
    try:
        yield
    finally:
        _step.reset(token)
