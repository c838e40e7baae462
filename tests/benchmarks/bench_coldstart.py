"""Scale to zero without paying for it (issue 15): cold starts, warm memory, the cold chain.

On ``remedy up``'s platform (in-process, the reconciler not ticking) with every function
behind an activator (:mod:`tests.benchmarks.fleet`), one run measures:

- per function, its cold start (spawn → first answer to the real event that reaches
  it, as Knative's activator delivers it) and its warm PSS, each against the empty
  function's in the same run (:mod:`tests.benchmarks.cold_functions`);
- what loading the Kubernetes and GitHub clients costs by itself, in time and memory
  (:mod:`tests.benchmarks.client_costs`);
- the cold chain: one push with every function started on demand, against the same
  chain of empty functions (:mod:`tests.benchmarks.cold_chain`).

Targets, all ratios to floors of the same run: cold start and warm PSS of each function
≤ 1.5x the empty function's, plus the cost of the clients its wiring uses
(``tests.knative.source_scan.needs``: none for webhook-gateway and push-intake); the
cold chain ≤ 2.5x its floor.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from remedy.local import functions
from tests.benchmarks import client_costs, cold_chain, cold_functions
from tests.benchmarks.fleet import Fleet, Triggers
from tests.benchmarks.load import machine
from tests.chaos.harness import Harness
from tests.knative import source_scan

FACTOR, CHAIN_FACTOR = 1.5, 2.5
WARM_UP_PUSHES = 3


def _allowed(value: float, floor: float, cost: float) -> dict[str, Any]:
    allowance = FACTOR * floor + cost
    return {
        "value": value,
        "floor": floor,
        "ratio_to_floor": round(value / floor, 2),
        "client_cost": cost,
        "target": round(allowance, 1),
        "ratio_to_target": round(value / allowance, 2),
        "met": value <= allowance,
    }


def _judged(name: str, measured: dict[str, Any], costs: dict[str, Any]) -> dict[str, Any]:
    needs = source_scan.needs(name)
    cost = client_costs.cost_of(costs, kubernetes=needs.kubernetes, github=needs.github)
    mine, floor = measured["function"], measured["floor"]
    return {
        "clients": [n for n in ("kubernetes", "github") if getattr(needs, n)],
        "cold_start_ms": _allowed(mine["cold_start_ms"], floor["cold_start_ms"], cost["start_ms"]),
        "warm_pss_mib": _allowed(mine["warm_pss_mib"], floor["warm_pss_mib"], cost["pss_mib"]),
        **measured,
    }


def _measure(fleet: Fleet) -> dict[str, Any]:
    costs = client_costs.measure(fleet.harness.state["kubeconfig"])
    triggers = Triggers(fleet)
    fleet.use_real()
    for activator in fleet.activators.values():
        activator.warm()
    for _ in range(WARM_UP_PUSHES):  # connections open, every first-request path taken
        triggers.push()()
    names = functions.available()
    each = {
        name: _judged(name, cold_functions.measure(fleet, triggers, name), costs) for name in names
    }
    chain = cold_chain.measure(fleet, triggers)
    chain["target"] = {
        "value": chain["ratio"],
        "target": CHAIN_FACTOR,
        "met": chain["ratio"] <= CHAIN_FACTOR,
    }
    return {
        "functions": each,
        "cold_chain": chain,
        "client_costs": costs,
        "summary": {
            name: {
                "cold_start_ms": f"{f['cold_start_ms']['value']} vs floor "
                f"{f['cold_start_ms']['floor']} (x{f['cold_start_ms']['ratio_to_floor']}), "
                f"allowed {f['cold_start_ms']['target']}",
                "warm_pss_mib": f"{f['warm_pss_mib']['value']} vs floor "
                f"{f['warm_pss_mib']['floor']} (x{f['warm_pss_mib']['ratio_to_floor']}), "
                f"allowed {f['warm_pss_mib']['target']}",
            }
            for name, f in each.items()
        },
    }


def run() -> dict[str, Any]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="remedy-bench-") as workdir:
        harness = Harness.start(Path(workdir), function_env={}, ping_seconds=3600)
        fleet: Fleet | None = None
        try:
            fleet = Fleet.over(harness)
            report = _measure(fleet)
        finally:
            if fleet is not None:
                fleet.close()
            harness.stop()
    report["machine"] = machine(load)
    return report
