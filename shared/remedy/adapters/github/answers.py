"""How to read one GitHub answer: done, not found, refused, rate limited or failed.

GitHub's rules, from "Rate limits for the REST API" and "Best practices for using the
REST API" (docs.github.com): a 403 or 429 with ``x-ratelimit-remaining: 0`` is the
primary limit (wait until ``x-ratelimit-reset``, epoch seconds); a 403 or 429 with
``retry-after`` or a "secondary rate limit" message is a secondary limit (wait
``retry-after`` seconds, else at least a minute); 5xx are GitHub's own failures and
worth a retry. Anything else in 4xx is an answer about the request and is final.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SECONDARY_WAIT_S = 60.0
"""GitHub: without ``retry-after`` "wait for at least one minute before retrying"."""

_SECONDARY_PHRASES = ("secondary rate limit", "abuse detection", "retry your request again later")


@dataclass(frozen=True, slots=True)
class Failed:
    """Worth retrying: a 5xx, a timeout, a broken connection or a mangled body."""

    reason: str
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class Limited:
    reason: str
    retry_after_s: float
    secondary: bool


@dataclass(frozen=True, slots=True)
class Refused:
    """A final 4xx answer about this request (including 401/403/404)."""

    status: int
    message: str


Problem = Failed | Limited | Refused


def classify(status: int, headers: Mapping[str, str], data: Any, *, now: float) -> Problem:
    """Read an error answer; ``headers`` keys are lower-case, ``now`` is epoch seconds."""
    message = _message(data)
    retry_after = _seconds(headers.get("retry-after"))
    if status >= 500:
        return Failed(f"GitHub answered {status}: {message}", retry_after)
    if status in (403, 429):
        if headers.get("x-ratelimit-remaining") == "0":
            reset = _seconds(headers.get("x-ratelimit-reset"))
            wait = max(reset - now if reset is not None else SECONDARY_WAIT_S, retry_after or 0.0)
            return Limited(f"primary rate limit exhausted: {message}", max(wait, 1.0), False)
        if retry_after is not None or status == 429 or _secondary(message):
            wait = retry_after if retry_after is not None else SECONDARY_WAIT_S
            return Limited(f"secondary rate limit: {message}", wait, True)
    return Refused(status, message)


def _message(data: Any) -> str:
    if isinstance(data, Mapping):
        return str(data.get("message") or data.get("data") or "no message")[:300]
    return "no message"


def _secondary(message: str) -> bool:
    lowered = message.lower()
    return any(phrase in lowered for phrase in _SECONDARY_PHRASES)


def _seconds(value: str | None) -> float | None:
    """A ``retry-after`` delta or an epoch reset; HTTP-date ``retry-after`` GitHub never sends."""
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 else None
