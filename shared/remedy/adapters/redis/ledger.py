"""The idempotency ledger: run each event (and each step of a delivery) once in effect.

Knative and GitHub deliver at least once, late and concurrently. Before acting, a
handler calls :meth:`Ledger.begin` with the event's key and payload fingerprint and
gets a :class:`Claim`: ``NEW`` (run it), ``RESUME`` (an earlier attempt failed or its
holder crashed: continue after ``claim.recovery_point``, reusing ``claim.outputs``) or
``DONE`` (replay ``claim.result``). A claim held by a live worker raises
:class:`InProgressElsewhere` ("retry later"), a reused id with another payload raises
:class:`PayloadMismatch`. The owner records each step, then completes or fails.

Crashed holders are handled by lease-based takeover, not by a sweeper: a claim carries
a lease (renewed by every recorded step and by :meth:`Ledger.renew`); once it has run
out, the next ``begin`` takes the entry over as ``RESUME``, and the old owner's writes
are refused (:class:`ClaimLost`) because every write checks the owner token atomically.
Records expire ``record_ttl_s`` (default 7 days: GitHub redelivers days later) after
their last change.

Why one master at a time, not a quorum: the ledger is a state machine (claim, steps,
result). Keeping it consistent across independent masters needs consensus, which Redis
masters do not provide; "write everywhere, read a majority" diverges under concurrent
claims. The ledger therefore lives on one ``REDIS_URLS`` master — the first — and fails
over to the next one when it stops answering (and stays there while it answers), so
losing one of three masters does not stop remedy. What a failover costs: records kept
on the lost master are out of sight, so a step may run a second time. That is safe by
design, because the ledger is not the only guard: the per-task Redlock gives mutual
exclusion, and every effect is idempotent and fenced in Kubernetes itself — a delivery
already admitted is recorded in the task's state, cancellation requests carry their
epoch, deletions their uid, the labels and the resume are marked done per epoch in the
task's state. The price of a failover is repeated reads and writes, never a repeated
effect. Make the masters durable (a replica, AOF) where even that matters.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

import redis

from remedy.adapters.redis.fanout import LuaScript, NodeFailure, NodeSet
from remedy.adapters.redis.ledger_keys import LedgerKey, validate_step
from remedy.adapters.redis.ledger_models import Claim, ClaimOutcome, LedgerEntry, decode_reply
from remedy.adapters.redis.ledger_scripts import BEGIN, FINISH, READ, RECORD_STEP, RENEW
from remedy.adapters.redis.nodes import connect_urls
from remedy.ports import RetryLater

log = logging.getLogger(__name__)

DEFAULT_RECORD_TTL_S = 7 * 24 * 3600.0
DEFAULT_LEASE_S = 60.0
DEFAULT_TIMEOUT_S = 0.5
MAX_JSON_BYTES = 64 * 1024
MAX_ERROR_CHARS = 2000
_FINGERPRINT = re.compile(r"^[\x21-\x7e]{1,128}$")


class LedgerError(RuntimeError):
    """Base of the ledger errors."""


class LedgerUnavailable(LedgerError, RetryLater):
    """The ledger's Redis master did not answer; retry later (never run unrecorded)."""


class InProgressElsewhere(LedgerError):
    """Another live worker holds this key; retry after ``retry_after_s``."""

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class PayloadMismatch(LedgerError):
    """The key was first seen with a different payload; this is not a duplicate."""


class ClaimLost(LedgerError):
    """The claim is no longer ours (taken over after its lease ran out, or finished)."""


class Ledger:
    """Idempotency records on one Redis master at a time; safe to share between threads."""

    def __init__(
        self,
        client: redis.Redis | Sequence[redis.Redis],
        *,
        record_ttl_s: float = DEFAULT_RECORD_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> None:
        if not 0 < lease_s <= record_ttl_s:
            raise ValueError("need 0 < lease_s <= record_ttl_s")
        clients = [client] if isinstance(client, redis.Redis) else list(client)
        self._node = NodeSet(clients, call_timeout_s=timeout_s)
        self._current = 0
        self.record_ttl_s = record_ttl_s
        self.lease_s = lease_s

    @classmethod
    def from_urls(
        cls,
        urls: str | Sequence[str],
        *,
        record_ttl_s: float = DEFAULT_RECORD_TTL_S,
        lease_s: float = DEFAULT_LEASE_S,
        timeout_s: float = DEFAULT_TIMEOUT_S,
    ) -> Ledger:
        """The ledger on ``REDIS_URLS``' masters, one at a time (see the module docstring)."""
        clients = connect_urls(urls, socket_timeout_s=timeout_s)
        return cls(clients, record_ttl_s=record_ttl_s, lease_s=lease_s, timeout_s=timeout_s)

    def begin(self, key: LedgerKey, *, fingerprint: str, lease_s: float | None = None) -> Claim:
        """Claim ``key`` (see the module docstring for the outcomes and errors)."""
        if not isinstance(fingerprint, str) or not _FINGERPRINT.match(fingerprint):
            raise ValueError("fingerprint must be 1-128 printable characters (use fingerprint())")
        lease = self._lease(self.lease_s if lease_s is None else lease_s)
        owner = secrets.token_hex(16)
        outcome, _, entry = self._run(
            BEGIN, key, [fingerprint, owner, _ms(lease), _ms(self.record_ttl_s)]
        )
        if entry is None:
            raise LedgerError(f"ledger {key}: BEGIN answered {outcome!r} without the entry")
        if outcome == "mismatch":
            raise PayloadMismatch(
                f"ledger {key} was first seen with payload {entry.fingerprint[:19]}…, this "
                f"one is {fingerprint[:19]}…: the id was reused for a different payload, so "
                "it is not a duplicate; refusing it (use a new id for new content)"
            )
        if outcome == "busy":
            wait = entry.lease_remaining_s or 0.0
            raise InProgressElsewhere(
                f"ledger {key} is in progress elsewhere (attempt {entry.attempts}, lease "
                f"ends in {wait:.1f}s); retry later",
                retry_after_s=wait,
            )
        claimed = ClaimOutcome(outcome)
        return Claim(
            key=key,
            outcome=claimed,
            owner="" if claimed is ClaimOutcome.DONE else owner,
            lease_s=lease,
            entry=entry,
        )

    def record_step(self, claim: Claim, step: str, output: Mapping[str, Any]) -> None:
        """Record ``step`` as done with ``output``; it becomes the recovery point."""
        validate_step(step)
        self._write(
            RECORD_STEP,
            claim,
            [step, _json("step output", output), _ms(claim.lease_s), _ms(self.record_ttl_s)],
        )

    def renew(self, claim: Claim, *, lease_s: float | None = None) -> None:
        """Extend the claim's lease (from now) during a long step."""
        lease = self._lease(claim.lease_s if lease_s is None else lease_s)
        self._write(RENEW, claim, [_ms(lease), _ms(self.record_ttl_s)])

    def complete(self, claim: Claim, result: Mapping[str, Any]) -> None:
        """Mark done; later ``begin`` calls get ``DONE`` with ``result`` to replay."""
        self._write(
            FINISH, claim, ["done", "result", _json("result", result), _ms(self.record_ttl_s)]
        )

    def fail(self, claim: Claim, error: str) -> None:
        """Give the claim up; the next ``begin`` resumes it, seeing ``error`` and attempts."""
        text = str(error)[:MAX_ERROR_CHARS] or "unspecified error"
        self._write(FINISH, claim, ["failed", "error", text, _ms(self.record_ttl_s)])

    def get(self, key: LedgerKey) -> LedgerEntry | None:
        """The entry as stored (with its remaining TTL), or None."""
        return self._run(READ, key, [])[2]

    def _lease(self, lease_s: float) -> float:
        if not 0 < lease_s <= self.record_ttl_s:
            raise ValueError(f"lease_s must be in (0, {self.record_ttl_s:g}], got {lease_s}")
        return lease_s

    def _write(self, script: LuaScript, claim: Claim, args: list[str | int]) -> None:
        if not claim.owner:
            raise ClaimLost(f"ledger {claim.key} was already done; a DONE claim cannot write")
        outcome, _, entry = self._run(script, claim.key, [claim.owner, *args])
        if outcome == "lost":
            state = entry.status.value if entry else "expired"
            raise ClaimLost(
                f"ledger {claim.key} is no longer ours (now {state}): another worker took "
                "it over after our lease ran out, or it was finished; stop this attempt"
            )

    def _run(
        self, script: LuaScript, key: LedgerKey, args: list[str | int]
    ) -> tuple[str, int, LedgerEntry | None]:
        failures = []
        start = self._current
        for offset in range(self._node.size):
            index = (start + offset) % self._node.size
            reply = self._node.eval(script, keys=[key.redis_key], args=args, only=[index])[index]
            if not isinstance(reply, NodeFailure):
                if index != self._current:
                    log.warning(
                        "idempotency ledger failed over to master %d of %d",
                        index + 1,
                        self._node.size,
                    )
                    self._current = index
                return decode_reply(key, reply)
            failures.append(str(reply))
        raise LedgerUnavailable(
            f"idempotency ledger unavailable for {key}: {'; '.join(failures)}; retry later"
        )


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _json(what: str, value: Mapping[str, Any]) -> str:
    if not isinstance(value, Mapping):
        raise TypeError(f"{what} must be a JSON object (a mapping), not {type(value).__name__}")
    try:
        text = json.dumps(value, separators=(",", ":"), allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} is not JSON-serialisable: {exc}") from exc
    if len(text.encode()) > MAX_JSON_BYTES:
        raise ValueError(f"{what} is {len(text.encode())} bytes of JSON; at most {MAX_JSON_BYTES}")
    return text
