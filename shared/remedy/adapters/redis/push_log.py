"""Each task's push log on Redlock's masters: a fenced register, read and written by quorum.

push-intake takes a push in by reading the task's :class:`~remedy.domain.push_order.PushLog`,
deciding with :func:`~remedy.domain.push_order.admit` and writing the new log back — a
read-modify-write that must neither lose an admitted push nor issue one push two epochs.
So it runs under a short Redlock on the task's push log, and the log is a *fenced
register* across the independent masters:

- every write carries the lock grant's fencing token as its version and lands on a
  master only while that master still holds the grant's lock and a lower version
  (one atomic script), and succeeds only on a majority;
- a read asks every master and takes the highest version among a majority of answers.

Any two majorities share a master, so a read sees the last successful write; a paused
holder whose lock ran out cannot overwrite a newer log (its version is lower, and its
lock token is gone). A write that reached only a minority raises, so no reply leaves
with its epoch; a later read may or may not see that minority write — either way the
push gets exactly one epoch that any reply ever carried.

Logs expire :data:`LOG_TTL_S` after their last write: a task quiet for that long has
no delivery of its pushes left in flight (GitHub redelivers for days, not weeks).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from remedy.adapters.redis import lua
from remedy.adapters.redis.fanout import LuaScript, NodeFailure, NodeSet, Reply
from remedy.adapters.redis.redlock import LockError, LockGrant, Redlock, validate_resource
from remedy.domain.push_order import PushLog

LOCK_PREFIX = "remedy:pushes:lock:"
LOG_PREFIX = "remedy:pushes:log:"
LOG_TTL_S = 30 * 24 * 3600.0
DEFAULT_LOCK_TTL_S = 2.0
"""Held for one read and one write; a crashed holder blocks the task this long at most."""

T = TypeVar("T")

# KEYS: log. The stored {version, log} ({0, ""} when there is none).
READ = LuaScript.of("""
local stored = redis.call('HMGET', KEYS[1], 'version', 'log')
return {tonumber(stored[1] or '0'), stored[2] or ''}
""")

# KEYS: lock, log. ARGV: token, version, log, ttl_ms.
# 1 written; 2 this very version is stored already (a retried write whose answer was lost:
# versions are fences, one per grant); 0 the lock here is not ours any more; -1 a newer
# version is stored.
WRITE = LuaScript.of(
    lua.LOCK_HELD
    + """
if not lock_held() then return 0 end
local stored = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
if stored == tonumber(ARGV[2]) then return 2 end
if stored > tonumber(ARGV[2]) then return -1 end
redis.call('HSET', KEYS[2], 'version', ARGV[2], 'log', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
"""
)


class PushLogUnavailable(LockError):
    """Too few Redis masters answered (or kept the lock) to read or write a push log."""


class RedisPushLogs:
    """Per-task push logs over ``redlock``'s masters; safe to share between threads."""

    def __init__(
        self,
        redlock: Redlock,
        *,
        lock_ttl_s: float = DEFAULT_LOCK_TTL_S,
        timeout_s: float | None = None,
    ) -> None:
        self._redlock = redlock
        self._lock_ttl_s = lock_ttl_s
        self._timeout_s = timeout_s

    def update(self, name: str, change: Callable[[PushLog], tuple[T, PushLog | None]]) -> T:
        """Under ``name``'s lock: read its log, ``change`` it, store the new one if any.

        Raises :class:`PushLogUnavailable` (retry later) when the lock is busy or too few
        masters answer; nothing ``change`` decided has then left this call.
        """
        lock = validate_resource(LOCK_PREFIX + _checked(name))
        log_key = LOG_PREFIX + name
        try:
            grant = self._redlock.acquire(lock, ttl_s=self._lock_ttl_s, timeout_s=self._timeout_s)
        except LockError as exc:
            raise PushLogUnavailable(f"push log of {name!r} is busy or unreachable: {exc}") from exc
        try:
            result, changed = change(self._read(name, log_key, grant))
            if changed is not None:
                self._write(name, [lock, log_key], grant, changed)
            return result
        finally:
            self._redlock.release(grant)

    def read(self, name: str) -> PushLog:
        """The log as a majority of masters has it (for inspection and tests)."""
        return self._read(name, LOG_PREFIX + _checked(name))

    def _read(self, name: str, log_key: str, grant: LockGrant | None = None) -> PushLog:
        nodes = self._redlock.nodes
        replies: dict[int, Reply] = {}
        while True:  # under a grant, masters that did not answer are asked again
            missing = [i for i in range(nodes.size) if _stored(replies.get(i)) is None]
            replies |= nodes.eval(READ, keys=[log_key], args=[], only=missing)
            stored = [pair for reply in replies.values() if (pair := _stored(reply)) is not None]
            if len(stored) >= nodes.quorum or not _time_for_another(nodes, grant):
                break
        if len(stored) < nodes.quorum:
            raise PushLogUnavailable(
                f"only {len(stored)} of {nodes.size} Redis masters answered for the push log "
                f"of {name!r} (need {nodes.quorum}): {_failures(replies)}; retry later"
            )
        _, text = max(stored, key=lambda pair: pair[0])
        return PushLog.from_json(text) if text else PushLog()

    def _write(self, name: str, keys: list[str], grant: LockGrant, log: PushLog) -> None:
        """Store ``log`` versioned by ``grant``'s fence where ``grant`` still holds the lock."""
        nodes = self._redlock.nodes
        args: list[str | int] = [grant.token, grant.fence, log.to_json(), round(LOG_TTL_S * 1000)]
        replies: dict[int, Reply] = {}
        while True:  # masters that did not answer are asked again while the grant holds
            missing = [
                i for i in range(nodes.size) if isinstance(replies.get(i, _NONE), NodeFailure)
            ]
            replies |= nodes.eval(WRITE, keys=keys, args=args, only=missing)
            written = sum(1 for reply in replies.values() if reply in (1, 2))
            if written >= nodes.quorum or not _time_for_another(nodes, grant):
                break
        if written < nodes.quorum:
            refused = sum(1 for reply in replies.values() if reply in (0, -1))
            raise PushLogUnavailable(
                f"the push log of {name!r} reached {written} of {nodes.size} Redis masters "
                f"(need {nodes.quorum}; {refused} refused: lock lost or a newer version); "
                f"{_failures(replies)}; retry later"
            )


_NONE = NodeFailure("", "not asked yet")
RETRY_PAUSE_S = 0.005


def _time_for_another(nodes: NodeSet, grant: LockGrant | None) -> bool:
    """Whether a holder may ask the masters that did not answer once more: only under a
    grant, and only while another round fits comfortably in what is left of it. A crowd
    of callers on this process's CPUs can make a round miss its deadline on healthy
    masters; the grant, costly to get in such a crowd, is still good for many rounds."""
    if grant is None or grant.remaining_s() <= 2 * nodes.call_timeout_s + RETRY_PAUSE_S:
        return False
    time.sleep(RETRY_PAUSE_S)  # a master that refused a connection answers at once
    return True


def _checked(name: str) -> str:
    if not isinstance(name, str) or not name:
        raise ValueError(f"push log name must be a non-empty string, got {name!r}")
    return name


def _stored(reply: Reply | None) -> tuple[int, str] | None:
    if isinstance(reply, list) and len(reply) == 2 and isinstance(reply[0], int):
        text = reply[1]
        return reply[0], text.decode() if isinstance(text, bytes) else str(text)
    return None


def _failures(replies: dict[int, Reply]) -> str:
    failed = [str(reply) for reply in replies.values() if isinstance(reply, NodeFailure)]
    return "; ".join(failed) or "no failures"
