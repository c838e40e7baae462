"""Lock latency on local redis-server masters: acquire+release, and epoch ``next()``.

Starts its own N=1 and N=3 masters (never the test pool), warms up (connections,
script caches, the fan-out's healthy-node path), then times ITERATIONS uncontended
acquire+release pairs and epoch allocations with ``time.perf_counter``. Target: lock
p99 <= 3 ms at N=3. Latency here is dominated by Python and the loopback round trips,
so the numbers are the client's overhead, not Redis's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from remedy.adapters.redis_epochs import EpochCounter
from remedy.adapters.redis_fanout import NodeSet
from remedy.adapters.redis_nodes import connect
from remedy.adapters.redlock import Redlock
from remedy.platform.redis_servers import start_many

ITERATIONS = 2000
WARMUP = 200
TARGET_P99_MS = 3.0


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, 3)

    return {
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def _time(operation: Callable[[int], None]) -> dict[str, float]:
    for number in range(WARMUP):
        operation(number)
    samples: list[float] = []
    for number in range(ITERATIONS):
        started = time.perf_counter()
        operation(number)
        samples.append(time.perf_counter() - started)
    return _percentiles(samples)


def _measure(masters: int) -> dict[str, Any]:
    servers = start_many(masters)
    try:
        redlock = Redlock(NodeSet(connect([server.url for server in servers])))
        epochs = EpochCounter(redlock)

        def lock_cycle(number: int) -> None:
            grant = redlock.acquire(f"bench:lock:{number % 50}", timeout_s=0)
            if not redlock.release(grant):
                raise RuntimeError("release failed in an uncontended benchmark")

        def next_epoch(number: int) -> None:
            epochs.next(f"bench:epoch:{number % 50}")

        return {
            "masters": masters,
            "iterations": ITERATIONS,
            "acquire_release": _time(lock_cycle),
            "epoch_next": _time(next_epoch),
        }
    finally:
        for server in servers:
            server.stop()


def run() -> dict[str, Any]:
    one, three = _measure(1), _measure(3)
    p99 = three["acquire_release"]["p99_ms"]
    return {
        "n1": one,
        "n3": three,
        "lock_p99_ms_n3": {"value": p99, "target": TARGET_P99_MS, "met": p99 <= TARGET_P99_MS},
    }
