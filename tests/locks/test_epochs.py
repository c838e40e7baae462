"""EpochCounter: unique, strictly increasing epochs per name over real masters.

Covers: sequential epochs strictly increase and ``current`` is at least the last one;
names are independent; 40 concurrent callers all get distinct epochs; epochs keep
increasing across a minority restart; with 2 of 3 masters down ``next`` and ``current``
raise EpochUnavailable within the timeout; bad names are refused.
"""

from __future__ import annotations

import threading
import time

import pytest

from remedy.adapters.redis_epochs import EpochCounter, EpochUnavailable
from remedy.adapters.redlock import Redlock
from remedy.platform.redis_servers import RedisServer
from tests.locks.conftest import MakeRedlock


def test_epochs_strictly_increase(redlock: Redlock) -> None:
    epochs = EpochCounter(redlock)
    assert epochs.current("task:a/b#1") == 0
    issued = [epochs.next("task:a/b#1") for _ in range(10)]
    assert issued == sorted(set(issued))
    current = epochs.current("task:a/b#1")
    assert current >= issued[-1]
    assert epochs.next("task:a/b#1") > current


def test_names_are_independent(redlock: Redlock) -> None:
    epochs = EpochCounter(redlock)
    first = epochs.next("task:a/b#1")
    epochs.next("task:a/b#2")
    assert epochs.next("task:a/b#1") == first + 1


def test_concurrent_callers_get_distinct_epochs(redlock: Redlock) -> None:
    epochs = EpochCounter(redlock, timeout_s=30)
    callers = 40
    start = threading.Barrier(callers)
    issued: list[int] = []
    guard = threading.Lock()

    def call() -> None:
        start.wait()
        value = epochs.next("task:a/b#7")
        with guard:
            issued.append(value)

    threads = [threading.Thread(target=call) for _ in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(issued) == callers
    assert len(set(issued)) == callers


def test_epochs_increase_across_a_minority_restart(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    epochs = EpochCounter(make_redlock(own_redis_masters))
    before = epochs.next("task:a/b#3")
    own_redis_masters[2].restart()
    own_redis_masters[0].stop()
    assert epochs.next("task:a/b#3") > before


def test_majority_down_raises_within_the_timeout(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    epochs = EpochCounter(make_redlock(own_redis_masters), timeout_s=0.2)
    epochs.next("task:a/b#4")
    own_redis_masters[0].stop()
    own_redis_masters[1].stop()
    started = time.monotonic()
    with pytest.raises(EpochUnavailable, match="could not issue an epoch"):
        epochs.next("task:a/b#4")
    assert time.monotonic() - started < 2.0
    with pytest.raises(EpochUnavailable, match="only 1 of 3 Redis masters answered"):
        epochs.current("task:a/b#4")


@pytest.mark.parametrize("name", ["", "with space", "x" * 300, "line\nbreak"])
def test_bad_names_are_refused(redlock: Redlock, name: str) -> None:
    with pytest.raises(ValueError):
        EpochCounter(redlock).next(name)
