"""Load generation and latency statistics shared by the benchmarks.

``open_loop`` sends at a fixed rate whatever the server does and measures each request
from the moment it was *scheduled*, so a slow server cannot hide its queueing delay
(no coordinated omission).
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p90_ms": round(percentile(ms, 90), 3),
        "p99_ms": round(percentile(ms, 99), 3),
        "max_ms": round(max(ms), 3) if ms else float("nan"),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else float("nan"),
    }


def target(value: float, limit: float) -> dict[str, Any]:
    return {"value": value, "target": limit, "met": value <= limit}


def open_loop(
    *, rate_per_s: float, count: int, send: Callable[[int], None], workers: int = 32
) -> tuple[list[float], int]:
    """Call ``send(i)`` ``count`` times at ``rate_per_s``; return latencies and errors."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = time.perf_counter() + 0.05

    def one(index: int, scheduled: float) -> None:
        nonlocal errors
        try:
            send(index)
        except Exception:
            with lock:
                errors += 1
            return
        with lock:
            latencies.append(time.perf_counter() - scheduled)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index in range(count):
            scheduled = start + index / rate_per_s
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, index, scheduled)
    return latencies, errors


def closed_loop(*, count: int, call: Callable[[int], None]) -> list[float]:
    """``count`` sequential calls; each one's latency."""
    latencies = []
    for index in range(count):
        began = time.perf_counter()
        call(index)
        latencies.append(time.perf_counter() - began)
    return latencies


def machine(load_at_start: float) -> dict[str, Any]:
    """The CPUs and the 1-minute load average at the start and now (a shared machine)."""
    return {
        "cpus": os.cpu_count(),
        "load_1m_at_start": round(load_at_start, 2),
        "load_1m_at_end": round(os.getloadavg()[0], 2),
    }
