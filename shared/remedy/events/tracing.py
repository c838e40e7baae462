"""W3C trace context for the CloudEvents distributed-tracing extension.

The gateway starts a trace whose id is derived from the GitHub delivery id, so GitHub's
redeliveries of the same delivery land in the same trace; each step that replies opens
a child span (same trace id, new span id).
"""

from __future__ import annotations

import hashlib
import re
import secrets

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def _span_id() -> str:
    return secrets.token_hex(8)


def start(delivery_id: str) -> str:
    trace_id = hashlib.sha256(delivery_id.encode()).hexdigest()[:32]
    return f"00-{trace_id}-{_span_id()}-01"


def child(traceparent: str | None, *, delivery_id: str) -> str:
    """A child of ``traceparent``, or a new trace when it is missing or malformed."""
    match = _TRACEPARENT.match(traceparent or "")
    if match is None or match.group(1) == "0" * 32:
        return start(delivery_id)
    return f"00-{match.group(1)}-{_span_id()}-{match.group(3)}"


def trace_id(traceparent: str) -> str | None:
    match = _TRACEPARENT.match(traceparent)
    return match.group(1) if match else None
