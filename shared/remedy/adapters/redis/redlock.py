"""Redlock over N independent Redis masters, with a fencing token on every grant.

remedy takes one lock per task (:func:`task_lock_key`) so only one handler at a time
acts on a task's agents, labels and workflow. A lock alone cannot make a paused holder
exclusive (its TTL may run out mid-write), so each grant also carries ``fence``, a
number that strictly increases per resource across all holders; resources compare it
and refuse stale writers. Why the fence is safe is argued in
:mod:`remedy.adapters.redis.redlock_scripts`.

Acquisition follows the Redlock algorithm: the same script goes to every master in
parallel with a per-node timeout far below the TTL; a majority of votes wins; validity
is the TTL minus the elapsed monotonic time minus clock drift (1 % of the TTL + 2 ms);
a failed attempt releases whatever it got and retries when the holder releases (a
release leaves a wake token that the waiter blocks on) or at the latest after a random,
growing delay, until a finite timeout, then raises :class:`LockUnavailable`. An
unreachable master is just a "no vote". Release is compare-and-delete; extension needs
a majority and is capped so a stuck holder cannot keep a task forever. Each acquisition
is counted in the metrics, taken or busy, with how long it took, by kind of lock (never
its resource).
"""

from __future__ import annotations

import contextlib
import logging
import random
import re
import secrets
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

from remedy import metrics
from remedy.adapters.redis.fanout import NodeFailure, NodeSet, Reply
from remedy.adapters.redis.nodes import DEFAULT_NODE_TIMEOUT_S
from remedy.adapters.redis.redlock_scripts import (
    ACQUIRE,
    EXTEND,
    FENCE_PREFIX,
    RAISE,
    RELEASE,
    WAKE_PREFIX,
    WAKE_TTL_MS,
    fence_key,
    wake_key,
)
from remedy.domain.identifiers import Repository, validate_task_id
from remedy.ports import RetryLater

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0
DEFAULT_ACQUIRE_TIMEOUT_S = 5.0
DEFAULT_MAX_EXTENSIONS = 20
DEFAULT_MAX_HOLD_S = 600.0
FENCE_TTL_S = 30 * 24 * 3600.0
"""Fence counters outlive locks by far; a counter that does expire restarts from the clock."""

RETRY_BASE_S = 0.001
RETRY_CAP_S = 0.1
"""The longest a contender waits between attempts grows from ~1 ms (2, 4, 8 ms) to a
cap of 100 ms, reached only by a crowd: a hundred waiters polling every 10 ms in one
process need more CPU than 2 CPUs have, every fan-out then misses its deadline, split
votes leave keys behind and nobody gets the lock (tests/locks/test_fencing.py). It waits
blocked on the resource's wake key, so a release ends the wait at once: the delays
bound how late a contender notices a release that did not reach the master it waits on
(a lock left to expire, a master that lost the token), not how late it usually does."""
_RESOURCE = re.compile(r"^[\x21-\x7e]{1,256}$")


class LockError(RetryLater):
    """Base of the lock errors: transient, so the delivery is retried later."""


class LockUnavailable(LockError):
    """The lock could not be taken before the timeout."""


class LockLost(LockError):
    """The lock is no longer (or may no longer be) ours, or may not be extended further."""


@dataclass(frozen=True)
class LockGrant:
    """A held lock. Times are ``time.monotonic()`` seconds of the holding process."""

    resource: str
    token: str = field(repr=False)
    fence: int
    validity_s: float
    acquired_at: float
    expires_at: float
    extensions: int = 0

    def remaining_s(self) -> float:
        """Seconds of validity left; act only while this is comfortably positive."""
        return self.expires_at - time.monotonic()


def task_lock_key(repository: str, task_id: int) -> str:
    """The one lock key per task: ``remedy:lock:task:{owner/repo}:{id}``."""
    repo = Repository.parse(repository)
    return f"remedy:lock:task:{repo.full_name}:{validate_task_id(task_id)}"


def validate_resource(resource: str) -> str:
    if not isinstance(resource, str) or not _RESOURCE.match(resource):
        raise ValueError(
            f"lock resource {str(resource)[:80]!r} must be 1-256 printable ASCII "
            "characters without spaces"
        )
    for reserved in (FENCE_PREFIX, WAKE_PREFIX):
        if resource.startswith(reserved):
            raise ValueError(f"lock resource may not start with {reserved!r} (reserved)")
    return resource


class Redlock:
    """Locks over the masters of ``nodes``; safe to share between threads."""

    def __init__(
        self,
        nodes: NodeSet,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        acquire_timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S,
        max_extensions: int = DEFAULT_MAX_EXTENSIONS,
        max_hold_s: float = DEFAULT_MAX_HOLD_S,
    ) -> None:
        self.nodes = nodes
        self.ttl_s = self._checked_ttl(ttl_s)
        if acquire_timeout_s < 0 or max_extensions < 0 or max_hold_s < ttl_s:
            raise ValueError(
                "acquire_timeout_s and max_extensions must be >= 0 and max_hold_s >= ttl_s"
            )
        self.acquire_timeout_s = acquire_timeout_s
        self.max_extensions = max_extensions
        self.max_hold_s = max_hold_s

    @classmethod
    def from_urls(
        cls,
        urls: str | Sequence[str],
        *,
        socket_timeout_s: float = DEFAULT_NODE_TIMEOUT_S,
        ttl_s: float = DEFAULT_TTL_S,
        acquire_timeout_s: float = DEFAULT_ACQUIRE_TIMEOUT_S,
    ) -> Redlock:
        """Redlock over ``REDIS_URLS`` (a comma-separated string or a list)."""
        nodes = NodeSet.from_urls(urls, socket_timeout_s=socket_timeout_s)
        return cls(nodes, ttl_s=ttl_s, acquire_timeout_s=acquire_timeout_s)

    def acquire(
        self, resource: str, *, ttl_s: float | None = None, timeout_s: float | None = None
    ) -> LockGrant:
        """Take the lock or raise :class:`LockUnavailable` once ``timeout_s`` has passed.

        ``timeout_s=0`` makes exactly one attempt.
        """
        validate_resource(resource)
        ttl = self._checked_ttl(ttl_s if ttl_s is not None else self.ttl_s)
        timeout = self.acquire_timeout_s if timeout_s is None else max(0.0, timeout_s)
        started = time.monotonic()
        deadline = started + timeout
        attempts = 0
        while True:
            attempts += 1
            grant, why = self._attempt(resource, ttl)
            if grant is not None:
                waited = time.monotonic() - started
                metrics.lock_acquisition(resource, acquired=True, waited_s=waited)
                return grant
            left = deadline - time.monotonic()
            if left <= 0:
                waited = time.monotonic() - started
                metrics.lock_acquisition(resource, acquired=False, waited_s=waited)
                raise LockUnavailable(
                    f"could not lock {resource!r} within {timeout:.3g}s "
                    f"({attempts} attempt{'s' if attempts > 1 else ''}); last attempt: {why}. "
                    "Another holder has it or too few Redis masters answer; retry later."
                )
            backoff = min(RETRY_CAP_S, RETRY_BASE_S * 2 ** min(attempts, 10))
            jittered = random.uniform(backoff / 2, backoff)  # noqa: S311 - jitter
            self.nodes.wait_for(wake_key(resource), timeout_s=min(left, jittered))

    def release(self, grant: LockGrant) -> bool:
        """Delete the lock where it still holds ``grant``'s token.

        True when a majority still held it (nothing could have taken it meanwhile);
        False when it had expired or been taken over, i.e. the work done under it was
        not exclusive at the end and only the resources' fencing protected it.
        """
        replies = self._release(grant.resource, grant.token)
        return _count(replies, lambda reply: reply == 1) >= self.nodes.quorum

    def extend(self, grant: LockGrant, *, ttl_s: float | None = None) -> LockGrant:
        """Renew the lock for ``ttl_s`` on a majority, or raise :class:`LockLost`.

        Refused once the grant expired, after ``max_extensions`` extensions, or when
        the total hold time would pass ``max_hold_s``.
        """
        ttl = self._checked_ttl(ttl_s if ttl_s is not None else self.ttl_s)
        start = time.monotonic()
        if start >= grant.expires_at:
            raise LockLost(f"lock on {grant.resource!r} expired before extension; re-acquire")
        if grant.extensions >= self.max_extensions:
            raise LockLost(
                f"lock on {grant.resource!r} was extended {grant.extensions} times, the cap; "
                "finish within its remaining validity or release and re-acquire"
            )
        if start + ttl - grant.acquired_at > self.max_hold_s:
            raise LockLost(
                f"extending {grant.resource!r} would hold it past max_hold_s="
                f"{self.max_hold_s:g}s; finish within its remaining validity or re-acquire"
            )
        replies = self.nodes.eval(EXTEND, keys=[grant.resource], args=[grant.token, _ms(ttl)])
        now = time.monotonic()
        validity = ttl - (now - start) - _drift(ttl)
        votes = _count(replies, lambda reply: reply == 1)
        if votes >= self.nodes.quorum and validity > 0:
            return replace(
                grant,
                validity_s=validity,
                expires_at=now + validity,
                extensions=grant.extensions + 1,
            )
        self.release(grant)
        raise LockLost(
            f"lock on {grant.resource!r} could not be extended: still ours on {votes} of "
            f"{self.nodes.size} masters (need {self.nodes.quorum}); "
            f"{_failures(replies)}. Stop writing and re-acquire."
        )

    @contextlib.contextmanager
    def hold(
        self, resource: str, *, ttl_s: float | None = None, timeout_s: float | None = None
    ) -> Iterator[LockGrant]:
        """``with redlock.hold(key) as grant:`` acquire, then always release."""
        grant = self.acquire(resource, ttl_s=ttl_s, timeout_s=timeout_s)
        try:
            yield grant
        finally:
            if not self.release(grant):
                log.warning(
                    "lock on %s (fence %d) had expired or been taken before release; "
                    "the resources' fence checks were its only protection",
                    resource,
                    grant.fence,
                )

    def _attempt(self, resource: str, ttl: float) -> tuple[LockGrant | None, str]:
        token = secrets.token_hex(16)
        keys = [resource, fence_key(resource)]
        start = time.monotonic()
        replies = self.nodes.eval(ACQUIRE, keys=keys, args=[token, _ms(ttl), _ms(FENCE_TTL_S)])
        counters = {i: pair for i, r in replies.items() if (pair := _pair(r)) is not None}
        votes = {i: counter for i, (granted, counter) in counters.items() if granted == 1}
        why = self._describe(replies, votes)
        if len(votes) >= self.nodes.quorum:
            fence = max(votes.values())
            lagging = [i for i, (_, counter) in counters.items() if counter < fence]
            if lagging:
                raised = self.nodes.eval(
                    RAISE, keys=keys, args=[token, fence, _ms(FENCE_TTL_S)], only=lagging
                )
                for index in lagging:
                    if index in votes and raised.get(index) != 1:
                        del votes[index]
            now = time.monotonic()
            validity = ttl - (now - start) - _drift(ttl)
            if len(votes) >= self.nodes.quorum and validity > 0:
                return LockGrant(resource, token, fence, validity, now, now + validity), ""
            why = f"majority lost while fencing or validity used up ({validity * 1000:.1f} ms)"
        # Undo wherever the key may be ours: not where SET NX definitely failed.
        maybe_ours = [i for i in replies if counters.get(i, (1, 0))[0] == 1]
        if maybe_ours:
            self._release(resource, token, only=maybe_ours)
        return None, why

    def _release(
        self, resource: str, token: str, *, only: Collection[int] | None = None
    ) -> dict[int, Reply]:
        # An undo must reach the node even late, or the key it leaves blocks everyone
        # until its TTL; where it deletes the key it also wakes the next waiter.
        keys, args = [resource, wake_key(resource)], [token, str(WAKE_TTL_MS)]
        return self.nodes.eval(RELEASE, keys=keys, args=args, only=only, run_late=True)

    def _describe(self, replies: Mapping[int, Reply], votes: Mapping[int, int]) -> str:
        held = sum(1 for r in replies.values() if (pair := _pair(r)) and pair[0] == 0)
        parts = [f"{len(votes)} of {self.nodes.size} masters granted (need {self.nodes.quorum})"]
        if held:
            parts.append(f"{held} held by another holder")
        failures = _failures(replies)
        if failures:
            parts.append(failures)
        return "; ".join(parts)

    def _checked_ttl(self, ttl_s: float) -> float:
        floor = 2 * self.nodes.call_timeout_s + 0.002
        if not ttl_s > floor:
            raise ValueError(
                f"lock TTL {ttl_s}s is too short: it must exceed twice the per-node "
                f"timeout ({floor:.3f}s) so a slow master cannot eat all the validity"
            )
        return float(ttl_s)


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _drift(ttl: float) -> float:
    return 0.01 * ttl + 0.002


def _pair(reply: Reply) -> tuple[int, int] | None:
    if isinstance(reply, list) and len(reply) == 2:
        granted, counter = reply
        if isinstance(granted, int) and isinstance(counter, int):
            return granted, counter
    return None


def _count(replies: Mapping[int, Reply], accept: Callable[[Reply], bool]) -> int:
    return sum(1 for reply in replies.values() if accept(reply))


def _failures(replies: Mapping[int, Reply]) -> str:
    failed = [str(reply) for reply in replies.values() if isinstance(reply, NodeFailure)]
    return f"no answer from {len(failed)}: " + "; ".join(failed) if failed else ""
