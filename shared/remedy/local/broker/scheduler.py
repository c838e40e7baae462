"""A bounded thread pool plus one timer thread for work that must wait (retry backoff).

Knative delivers concurrently and in no particular order; a pool of worker threads
gives the same. A retry waiting out its backoff must not occupy a worker (a burst of
failures would starve healthy deliveries), so delayed work sits in a heap watched by a
single timer thread and reaches the pool only when due.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger(__name__)

Job = Callable[[], None]


class Scheduler:
    def __init__(self, *, workers: int) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="broker-delivery")
        self._due: list[tuple[float, int, Job]] = []
        self._sequence = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._timer = threading.Thread(target=self._run_timer, name="broker-timer", daemon=True)
        self._timer.start()

    @staticmethod
    def _guarded(job: Job) -> Job:
        def run() -> None:
            try:
                job()
            except Exception:  # a bug in one delivery must not kill the worker silently
                log.exception("broker job failed")

        return run

    def submit(self, job: Job) -> None:
        if self._stopped:
            raise RuntimeError("the broker is stopped")
        self._pool.submit(self._guarded(job))

    def submit_after(self, delay_s: float, job: Job) -> None:
        if delay_s <= 0:
            self.submit(job)
            return
        with self._wake:
            heapq.heappush(self._due, (time.monotonic() + delay_s, next(self._sequence), job))
            self._wake.notify()

    def _run_timer(self) -> None:
        with self._wake:
            while not self._stopped:
                if not self._due:
                    self._wake.wait()
                    continue
                due_at, _, job = self._due[0]
                remaining = due_at - time.monotonic()
                if remaining > 0:
                    self._wake.wait(remaining)
                    continue
                heapq.heappop(self._due)
                self._pool.submit(self._guarded(job))

    def shutdown(self) -> None:
        """Stop taking work, drop scheduled retries, wait for running deliveries."""
        with self._wake:
            self._stopped = True
            self._due.clear()
            self._wake.notify_all()
        self._timer.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)
