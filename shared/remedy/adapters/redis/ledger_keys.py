"""Idempotency ledger keys and payload fingerprints.

Ledger keys are built from event data (a CloudEvent ``source``, a delivery id, a step
name), i.e. from input remedy does not control. Each part is therefore validated
(non-empty text without control characters, bounded length) and encoded so that keys
stay short, readable and unambiguous: safe characters pass through, everything else
(``:`` included, the separator) is percent-encoded, and a part whose encoding would
exceed :data:`MAX_PART_CHARS` becomes ``=`` + its SHA-256 (``=`` never survives
percent-encoding, so a hashed part cannot collide with a literal one).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import quote

KEY_PREFIX = "remedy:ledger:"
MAX_PART_CHARS = 120
MAX_INPUT_CHARS = 4096
"""Longer identifiers are not ids but junk or an attack; refuse rather than hash them."""

_SAFE = "/@+"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
STEP_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

Kind = Literal["event", "step"]


@dataclass(frozen=True)
class LedgerKey:
    """What one ledger entry deduplicates: an event, or one step of one delivery."""

    kind: Kind
    first: str
    second: str

    @classmethod
    def for_event(cls, source: str, event_id: str) -> LedgerKey:
        """Dedupe a CloudEvent by ``source`` + ``id`` (Knative's redelivery identity)."""
        return cls("event", _checked("event source", source), _checked("event id", event_id))

    @classmethod
    def for_step(cls, delivery_id: str, step: str) -> LedgerKey:
        """Dedupe one step (``cancel-agents``, ...) of the work started by one delivery."""
        return cls("step", _checked("delivery id", delivery_id), validate_step(step))

    @property
    def redis_key(self) -> str:
        return f"{KEY_PREFIX}{self.kind}:{encode_part(self.first)}:{encode_part(self.second)}"

    def __str__(self) -> str:
        names = ("source", "id") if self.kind == "event" else ("delivery", "step")
        return f"{self.kind} {names[0]}={self.first[:80]!r} {names[1]}={self.second[:80]!r}"


def validate_step(step: str) -> str:
    if not isinstance(step, str) or not STEP_NAME.match(step):
        raise ValueError(
            f"step name {str(step)[:80]!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return step


def encode_part(part: str) -> str:
    encoded = quote(part, safe=_SAFE)
    if len(encoded) <= MAX_PART_CHARS:
        return encoded
    return "=" + hashlib.sha256(part.encode()).hexdigest()


def _checked(what: str, value: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{what} must be a non-empty string, got {value!r:.80}")
    if len(value) > MAX_INPUT_CHARS:
        raise ValueError(f"{what} is {len(value)} characters long; at most {MAX_INPUT_CHARS}")
    if _CONTROL.search(value):
        raise ValueError(f"{what} {value[:80]!r} contains control characters")
    return value


def fingerprint(payload: bytes | bytearray | memoryview | Mapping[str, Any]) -> str:
    """``sha256:<hex>`` of raw bytes, or of a mapping's canonical JSON.

    Fingerprint what the step acts on. The same GitHub delivery can reach remedy as
    the raw webhook body (gateway) or as GitHubSource's re-serialised struct; hash a
    canonical mapping of the fields used rather than the raw bytes when both paths
    may deliver the same id.
    """
    if isinstance(payload, bytes | bytearray | memoryview):
        data = bytes(payload)
    elif isinstance(payload, Mapping):
        data = json.dumps(
            payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    else:
        raise TypeError(f"fingerprint takes bytes or a mapping, not {type(payload).__name__}")
    return "sha256:" + hashlib.sha256(data).hexdigest()
