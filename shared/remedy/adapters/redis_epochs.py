"""Per-name epochs: a quorum counter that strictly increases across all callers.

remedy gives every push it takes in a per-task epoch; resources remember the highest
epoch they acted on and refuse older ones, so a late or duplicate event can never undo
newer work. The epoch must therefore be unique and must grow across processes and
across the loss of a minority of Redis masters.

A bare quorum INCR is not enough: two concurrent callers can take the same maximum
from *different* masters. With counters X=4, Y=4, Z=0, caller A reaches X first (5)
and B reaches Y first (5); then A hears Z (1) and B hears Z (2): A's majority {X, Z}
and B's majority {Y, Z} both yield 5. So ``next`` takes a short Redlock on
``remedy:epoch:<name>`` and returns that grant's fencing token: the same INCR + max
write-back technique, with mutual exclusion making concurrent callers' values distinct
(the proof is in :mod:`remedy.adapters.redlock_scripts`). Values are large (a fresh
counter starts from the master's clock in milliseconds) but only their order matters.
"""

from __future__ import annotations

from remedy.adapters.redis_fanout import NodeFailure
from remedy.adapters.redlock import LockError, Redlock, validate_resource
from remedy.adapters.redlock_scripts import READ_FENCE, fence_key

EPOCH_PREFIX = "remedy:epoch:"
DEFAULT_EPOCH_LOCK_TTL_S = 2.0
"""The epoch lock is held for one fan-out; a crashed caller blocks others this long at most."""


class EpochUnavailable(LockError):
    """Too few Redis masters answered to issue or read an epoch; retry later."""


class EpochCounter:
    """Strictly increasing, unique integers per name, over Redlock's masters."""

    def __init__(
        self,
        redlock: Redlock,
        *,
        lock_ttl_s: float = DEFAULT_EPOCH_LOCK_TTL_S,
        timeout_s: float | None = None,
    ) -> None:
        self._redlock = redlock
        self._lock_ttl_s = lock_ttl_s
        self._timeout_s = timeout_s

    def next(self, name: str) -> int:
        """A new epoch for ``name``, greater than every epoch issued before this call began."""
        resource = _resource(name)
        try:
            grant = self._redlock.acquire(
                resource, ttl_s=self._lock_ttl_s, timeout_s=self._timeout_s
            )
        except LockError as exc:
            raise EpochUnavailable(f"could not issue an epoch for {name!r}: {exc}") from exc
        self._redlock.release(grant)
        return grant.fence

    def current(self, name: str) -> int:
        """At least the latest epoch issued for ``name`` (0 if none); the next is larger.

        It may exceed every issued epoch: failed lock attempts also count up.
        """
        nodes = self._redlock.nodes
        replies = nodes.eval(READ_FENCE, keys=[fence_key(_resource(name))], args=[])
        values = [reply for reply in replies.values() if isinstance(reply, int)]
        if len(values) < nodes.quorum:
            failures = "; ".join(str(r) for r in replies.values() if isinstance(r, NodeFailure))
            raise EpochUnavailable(
                f"only {len(values)} of {nodes.size} Redis masters answered for epoch "
                f"{name!r} (need {nodes.quorum}): {failures}; retry later"
            )
        return max(values)


def _resource(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"epoch name must be a non-empty string, got {name!r}")
    return validate_resource(EPOCH_PREFIX + name)
