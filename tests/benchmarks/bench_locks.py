"""Lock latency on local redis-server masters: acquire+release, and a push taken into a
task's push log (lock, quorum read, admit, quorum write, release).

Starts its own N=1 and N=3 masters (never the test pool), warms up (connections,
script caches, the fan-out's healthy-node path), then times ITERATIONS uncontended
acquire+release pairs and push admissions (logs of up to 64 pushes) with
``time.perf_counter``. Target: lock p99 <= 3 ms at N=3. Latency here is dominated by
Python and the loopback round trips, so the numbers are the client's overhead, not
Redis's.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from remedy.adapters.redis.fanout import NodeSet
from remedy.adapters.redis.nodes import connect
from remedy.adapters.redis.push_log import RedisPushLogs
from remedy.adapters.redis.redlock import Redlock
from remedy.domain import push_order
from remedy.local.redis_servers import start_many

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
        logs = RedisPushLogs(redlock)

        def lock_cycle(number: int) -> None:
            grant = redlock.acquire(f"bench:lock:{number % 50}", timeout_s=0)
            if not redlock.release(grant):
                raise RuntimeError("release failed in an uncontended benchmark")

        def admit_push(number: int) -> None:
            candidate = push_order.Candidate(
                ref="refs/heads/task-1",
                before=f"{number:040x}",
                after=f"{number + 1:040x}",
                delivery=f"d-{number}",
                pushed_at=datetime.now(UTC),
                pusher="rex",
            )

            def change(
                log: push_order.PushLog,
            ) -> tuple[push_order.Admission, push_order.PushLog | None]:
                admission = push_order.admit(log, candidate)
                return admission, admission.log

            logs.update(f"task:bench/bench#{number % 50}", change)

        return {
            "masters": masters,
            "iterations": ITERATIONS,
            "acquire_release": _time(lock_cycle),
            "push_admission": _time(admit_push),
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
