"""Mutual exclusion checked where it matters: at a resource that fences stale writers.

Covers: 100 concurrent contenders on 3 masters never overlap in the critical section,
every one gets in, and the resource accepts their fences in strictly increasing order;
a holder paused past its TTL is refused at the resource once the next holder wrote
(and its release no longer touches the lock).

``FencedResource`` is a test double for the resources remedy writes to (Kubernetes
objects with a per-task epoch, the workflow): it remembers the highest fence it
accepted and refuses any write that does not exceed it, which is exactly the check
a fenced resource performs.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import pytest

from remedy.adapters.redis.redlock import LockGrant, Redlock
from tests.locks.conftest import MakeRedlock

CONTENDERS = 100


class StaleFence(Exception):
    pass


@dataclass
class FencedResource:
    highest: int = 0
    accepted: list[tuple[int, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def write(self, fence: int, value: str) -> None:
        with self._lock:
            if fence <= self.highest:
                raise StaleFence(f"fence {fence} <= {self.highest}")
            self.highest = fence
            self.accepted.append((fence, value))


@dataclass
class CriticalSection:
    """Counts holders inside; the maximum ever seen must be 1."""

    inside: int = 0
    most: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self) -> None:
        with self._lock:
            self.inside += 1
            self.most = max(self.most, self.inside)

    def leave(self) -> None:
        with self._lock:
            self.inside -= 1


def test_concurrent_contenders_never_overlap(redlock: Redlock) -> None:
    resource, section = FencedResource(), CriticalSection()
    start = threading.Barrier(CONTENDERS)
    errors: list[BaseException] = []

    def contend(number: int) -> None:
        try:
            start.wait()
            with redlock.hold("res:contended", ttl_s=10, timeout_s=60) as grant:
                section.enter()
                resource.write(grant.fence, f"contender-{number}")
                # Stay inside across a scheduling point so an overlap would be seen.
                time.sleep(0.0005)
                section.leave()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    assert section.most == 1
    fences = [fence for fence, _ in resource.accepted]
    assert len(fences) == CONTENDERS
    assert fences == sorted(set(fences))
    assert len({value for _, value in resource.accepted}) == CONTENDERS


def wait_until_expired(grant: LockGrant) -> None:
    """The behaviour under test is time passing: a GC pause, a stalled node."""
    while grant.remaining_s() > 0:
        time.sleep(grant.remaining_s() + 0.001)


def test_paused_holder_is_refused_at_the_resource(
    make_redlock: MakeRedlock, redis_urls: list[str]
) -> None:
    redlock = make_redlock(redis_urls)
    resource = FencedResource()
    paused = redlock.acquire("res:paused", ttl_s=0.3)
    resource.write(paused.fence, "before the pause")
    wait_until_expired(paused)
    successor = redlock.acquire("res:paused", ttl_s=5, timeout_s=5)
    resource.write(successor.fence, "successor")
    with pytest.raises(StaleFence):
        resource.write(paused.fence, "after the pause")  # the paused holder wakes up
    assert resource.accepted[-1] == (successor.fence, "successor")
    assert redlock.release(paused) is False
    assert redlock.release(successor) is True
