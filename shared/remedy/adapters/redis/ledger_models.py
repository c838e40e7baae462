"""What the idempotency ledger hands back: entries, claims and their outcomes.

Plain frozen values decoded from the Redis hash described in
:mod:`remedy.adapters.redis.ledger_scripts`, so handlers can branch on them without touching
Redis: a :class:`Claim` says whether to start (``NEW``), to continue after the last
recorded step (``RESUME``) or to replay a recorded result (``DONE``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from remedy.adapters.redis.ledger_keys import LedgerKey


class ClaimOutcome(StrEnum):
    NEW = "new"
    """Nobody ran this before: it is ours now."""
    RESUME = "resume"
    """An earlier attempt failed or its holder vanished: ours now, continue after its steps."""
    DONE = "done"
    """Already completed: replay ``result``, do nothing else."""


class EntryStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    FAILED = "failed"
    DONE = "done"


@dataclass(frozen=True)
class LedgerEntry:
    """One ledger record as stored (times in ms of the ledger master's clock)."""

    key: LedgerKey
    status: EntryStatus
    fingerprint: str
    attempts: int
    steps: tuple[str, ...]
    outputs: Mapping[str, Any]
    recovery_point: str | None
    last_error: str | None
    result: Mapping[str, Any] | None
    lease_remaining_s: float | None
    created_ms: int
    updated_ms: int
    ttl_s: float | None = None


@dataclass(frozen=True)
class Claim:
    """The answer to :meth:`Ledger.begin`; ``owner`` is the capability to write."""

    key: LedgerKey
    outcome: ClaimOutcome
    owner: str = field(repr=False)
    lease_s: float
    entry: LedgerEntry

    @property
    def recovery_point(self) -> str | None:
        """The last step an earlier attempt recorded; resume after it."""
        return self.entry.recovery_point

    @property
    def outputs(self) -> Mapping[str, Any]:
        return self.entry.outputs

    @property
    def attempts(self) -> int:
        return self.entry.attempts

    @property
    def last_error(self) -> str | None:
        return self.entry.last_error

    @property
    def result(self) -> Mapping[str, Any] | None:
        return self.entry.result

    def completed(self, step: str) -> bool:
        """True when an earlier attempt already recorded ``step`` (skip it, use its output)."""
        return step in self.entry.outputs


def decode_reply(key: LedgerKey, reply: object) -> tuple[str, int, LedgerEntry | None]:
    """``{outcome, now_ms, field, value, ...}`` from a ledger script, decoded."""
    if not isinstance(reply, list) or len(reply) < 2 or len(reply) % 2:
        raise ValueError(f"unexpected ledger reply for {key}: {reply!r:.200}")
    words = [item.decode() if isinstance(item, bytes) else str(item) for item in reply]
    outcome, now_ms = words[0], int(words[1])
    fields = dict(zip(words[2::2], words[3::2], strict=True))
    return outcome, now_ms, (_entry(key, fields, now_ms) if "status" in fields else None)


def _entry(key: LedgerKey, fields: Mapping[str, str], now_ms: int) -> LedgerEntry:
    steps = tuple(name for name in fields.get("steps", "").split(",") if name)
    status = EntryStatus(fields["status"])
    lease_until = fields.get("lease_until")
    ttl_ms = int(fields["ttl_ms"]) if "ttl_ms" in fields else None
    return LedgerEntry(
        key=key,
        status=status,
        fingerprint=fields.get("fp", ""),
        attempts=int(fields.get("attempts", "0")),
        steps=steps,
        outputs={name: json.loads(fields[f"out:{name}"]) for name in steps},
        recovery_point=fields.get("recovery_point") or None,
        last_error=fields.get("error") or None,
        result=json.loads(fields["result"]) if "result" in fields else None,
        lease_remaining_s=(
            max(0.0, (int(lease_until) - now_ms) / 1000)
            if lease_until and status is EntryStatus.IN_PROGRESS
            else None
        ),
        created_ms=int(fields.get("created", "0")),
        updated_ms=int(fields.get("updated", "0")),
        ttl_s=ttl_ms / 1000 if ttl_ms is not None and ttl_ms >= 0 else None,
    )
