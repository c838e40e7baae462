"""Cold start and warm memory of each function, against the empty function's.

Cold start (issue 15): the function scaled to zero, everything else running warm, the
real event that reaches it on the platform (see :class:`~tests.benchmarks.fleet.Triggers`)
arrives at its activator, which starts the function with the command and environment
``remedy up`` uses, polls ``GET /healthz`` until 200 (the readiness probe) and forwards
the held request: spawn → first answer, timed at the activator, with the marks in
between (listening, ready) as the profile. Then a few more of the same events go
through it warm, and its PSS is read (gunicorn's master and worker).

Floor: the empty function (``floor/empty.py``, standing in for this function), started
by an activator of its own, sent the very request that woke the function (its events
go to a sink that takes them), then the same warm requests, and its PSS. Function and
floor alternate, run after run, so the machine's load moves them alike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.benchmarks.activator import Activator, Start, median, pss_mib, replay
from tests.benchmarks.fleet import Fleet, Triggers, empty_command
from tests.support.waiting import eventually

RUNS, WARM_REQUESTS = 5, 3
ANSWER_TIMEOUT_S = 60.0


@dataclass
class Samples:
    starts: list[Start] = field(default_factory=list)
    pss: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        profiles = [start.profile() for start in self.starts]
        return {
            "cold_start_ms": round(median(p["first_answer_ms"] for p in profiles), 1),
            "warm_pss_mib": round(median(self.pss), 1),
            "profile_median_ms": {
                mark: round(median(p[f"{mark}_ms"] for p in profiles), 1)
                for mark in ("listening", "ready", "first_answer")
            },
            "cold_starts_ms": [p["first_answer_ms"] for p in profiles],
            "first_answer_statuses": sorted({s.status for s in self.starts if s.status}),
            "warm_pss_samples_mib": self.pss,
        }


def _cold(activator: Activator, wake: Any) -> Start:
    """Wake the scaled-to-zero function; its start, once it answered and all settled."""
    before = len(activator.starts)
    done = wake()
    eventually(
        lambda: len(activator.starts) > before and activator.starts[before].answered is not None,
        timeout=ANSWER_TIMEOUT_S,
        what=f"{activator.name} started and answered",
    )
    done()
    return activator.starts[before]


def measure(fleet: Fleet, triggers: Triggers, name: str) -> dict[str, Any]:
    """The function's and its floor's cold starts and warm PSS (see the module docstring)."""
    activator = fleet.activators[name]
    floor = Activator(
        f"empty-{name}",
        fleet.harness.platform.supervisor,
        command=empty_command,
        env=fleet.empty_env(name, sink=fleet.sink.url),
    ).serve()
    wake = triggers.waking(name)
    real, empty = Samples(), Samples()
    try:
        for _ in range(RUNS):
            activator.scale_to_zero()
            start = _cold(activator, wake)
            real.starts.append(start)
            for _ in range(WARM_REQUESTS):
                wake()()
            assert activator.pid is not None
            real.pss.append(pss_mib(activator.pid))
            activator.scale_to_zero()

            assert start.first_request is not None
            for _ in range(1 + WARM_REQUESTS):
                replay(floor.url, start.first_request)
            empty.starts.append(floor.starts[-1])
            assert floor.pid is not None
            empty.pss.append(pss_mib(floor.pid))
            floor.scale_to_zero()
    finally:
        floor.close()
        activator.warm()  # the next function's measurements find this one warm
    woken_by = real.starts[-1].first_request
    return {
        "function": real.summary(),
        "floor": empty.summary(),
        "woken_by": f"{woken_by[0]} {woken_by[1]}" if woken_by else None,
        "runs": RUNS,
        "warm_requests_before_pss": WARM_REQUESTS,
    }
