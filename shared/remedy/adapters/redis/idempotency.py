"""The :class:`~remedy.ports.Idempotency` port over the Redis idempotency ledger.

Handlers ask for "run this once for (source, id)" and get the recorded result back for
duplicates; this adapter turns that into ledger claims, recovery points and the
ledger's errors into the port's "retry later" / "rejected" answers. Duplicates are
counted in the metrics: replayed, or in progress elsewhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from remedy import metrics
from remedy.adapters.redis.ledger import InProgressElsewhere, Ledger, LedgerError, PayloadMismatch
from remedy.adapters.redis.ledger_keys import LedgerKey
from remedy.adapters.redis.ledger_models import Claim, ClaimOutcome
from remedy.ports import LedgerRecord, Rejected, RetryLater, Steps

log = logging.getLogger(__name__)

DEFAULT_LEASE_S = 30.0
"""A step that takes longer than this is presumed crashed and may be taken over."""


class InProgress(RetryLater):
    status = 409


class Mismatch(Rejected):
    status = 422


class _ClaimSteps:
    def __init__(self, ledger: Ledger, claim: Claim) -> None:
        self._ledger = ledger
        self._claim = claim
        self._outputs = dict(claim.outputs)

    def get(self, step: str) -> Mapping[str, Any] | None:
        output = self._outputs.get(step)
        return output if isinstance(output, Mapping) else None

    def record(self, step: str, output: Mapping[str, Any]) -> None:
        self._ledger.record_step(self._claim, step, output)
        self._outputs[step] = dict(output)


class LedgerIdempotency:
    def __init__(self, ledger: Ledger, *, lease_s: float = DEFAULT_LEASE_S) -> None:
        self._ledger = ledger
        self._lease_s = lease_s

    @property
    def ledger(self) -> Ledger:
        """The ledger itself (for tests and tools)."""
        return self._ledger

    def record(self, *, source: str, event_id: str) -> LedgerRecord | None:
        """The :class:`~remedy.ports.LedgerRecords` port, for the reconciler's walk."""
        entry = self._ledger.get(LedgerKey.for_event(source, event_id))
        if entry is None:
            return None
        return LedgerRecord(
            status=entry.status.value,
            result=entry.result,
            last_error=entry.last_error,
            recovery_point=entry.recovery_point,
            lease_remaining_s=entry.lease_remaining_s,
        )

    def once(
        self,
        *,
        source: str,
        event_id: str,
        fingerprint: str,
        work: Callable[[Steps], dict[str, Any]],
    ) -> dict[str, Any]:
        key = LedgerKey.for_event(source, event_id)
        try:
            claim = self._ledger.begin(key, fingerprint=fingerprint, lease_s=self._lease_s)
        except InProgressElsewhere as exc:
            metrics.ledger_duplicate("in_progress")
            raise InProgress(str(exc)) from exc
        except PayloadMismatch as exc:
            raise Mismatch(f"the same delivery arrived with a different payload: {exc}") from exc
        if claim.outcome is ClaimOutcome.DONE:
            log.info("duplicate of %s: replaying its recorded result", key)
            metrics.ledger_duplicate("replayed")
            return dict(claim.result or {})
        if claim.outcome is ClaimOutcome.RESUME:
            log.info("resuming %s after %s", key, claim.recovery_point or "no step")
        try:
            result = work(_ClaimSteps(self._ledger, claim))
        except BaseException as exc:
            self._give_up(claim, exc)
            raise
        self._ledger.complete(claim, result)
        return result

    def _give_up(self, claim: Claim, error: BaseException) -> None:
        """Record the failure for the next attempt, never masking ``error`` itself."""
        try:
            self._ledger.fail(claim, f"{type(error).__name__}: {error}")
        except LedgerError as exc:
            log.warning("could not record the failure of %s: %s", claim.key, exc)
