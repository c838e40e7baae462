"""bench_remediation's targets: ratios to the floors bench_floor measures in the same run.

Issue 15 replaced issue 5's absolute latency targets (p50 ≤ 30 ms and p99 ≤ 150 ms at
concurrency 20, ≥ 20x the baseline), which were set beyond what empty functions reach on
2 CPUs, by ratios that hold on any machine:

- warm latency at concurrency 1 (p50) ≤ 2x the serial empty-hop floor (the requests on
  a remediation's critical path, each a no-op round trip);
- warm latency at concurrency 20 (mean, as the floor is a mean) ≤ 2x the concurrent
  floor (20 in flight x every delivery's CPU / CPUs);
- CPU per remediation of remedy's functions (their processes only: not the emulators,
  Redis, the broker or the benchmark) ≤ 2x what the same processes would spend if the
  functions did nothing: a serving side per delivery plus a sending side per event a
  function sends itself (bench_floor's ``floor_function_cpu_ms_per_remediation``);
- ≥ 8x faster than the original system's step script at concurrency 1.

The absolute figures are kept in the report; only the targets are ratios. The request
counts and the verification of every remediation stay targets as before.
"""

from __future__ import annotations

from typing import Any

from remedy.local import functions
from tests.benchmarks.load import target

LATENCY_FACTOR, CPU_FACTOR, SPEEDUP = 2.0, 2.0, 8.0


def functions_cpu_ms(by_process: dict[str, float]) -> float:
    """CPU per remediation of remedy's function processes (gunicorn workers included)."""
    return round(sum(ms for name, ms in by_process.items() if name in functions.NAMES), 1)


def _ratio(value: float, floor: float, factor: float) -> dict[str, Any]:
    ratio = value / floor if floor else float("nan")
    return {
        "value": value,
        "floor": floor,
        "ratio": round(ratio, 2),
        "target": factor,
        "met": ratio <= factor,
    }


def targets(report: dict[str, Any], floor: dict[str, Any]) -> dict[str, Any]:
    nan = float("nan")
    c1, c20 = report.get("concurrency_1", {}), report.get("concurrency_20", {})
    speedup = report["speedup"] = report.get("baseline", {}).get("speedup", nan)
    return {
        "latency_at_1_p50_vs_serial_floor": _ratio(
            c1.get("p50_ms", nan), floor["floor_latency_ms_at_1"], LATENCY_FACTOR
        ),
        "latency_at_20_mean_vs_concurrent_floor": _ratio(
            c20.get("mean_ms", nan), floor["floor_mean_ms_at_20"], LATENCY_FACTOR
        ),
        "functions_cpu_per_remediation_vs_empty_hops": _ratio(
            report.get("functions_cpu_ms_per_remediation", nan),
            floor["floor_function_cpu_ms_per_remediation"],
            CPU_FACTOR,
        ),
        "speedup_vs_baseline": {"value": speedup, "target": SPEEDUP, "met": speedup >= SPEEDUP},
        "github_requests_per_remediation": target(
            report.get("github_requests_per_remediation", nan), 3
        ),
        "github_requests_duplicate": target(report.get("github_requests_duplicate", nan), 0),
        "every_remediation_verified": target(report.get("problem_count", nan), 0),
    }


def floors_used(floor: dict[str, Any]) -> dict[str, Any]:
    """The bench_floor figures the ratios divide by, for the report."""
    keys = (
        "floor_latency_ms_at_1",
        "floor_mean_ms_at_20",
        "floor_function_cpu_ms_per_remediation",
        "floor_cpu_ms_per_remediation",
        "cpu_ms_per_hop",
        "serial_requests_per_remediation",
        "deliveries_per_remediation",
        "function_sends_per_remediation",
    )
    return {key: floor[key] for key in keys}
