"""What the fixed choice of client libraries costs by itself: time and memory.

remedy talks to Kubernetes with the ``kubernetes`` client and to GitHub with PyGithub;
that choice is fixed, so whatever loading them costs is a cost no remedy function using
them can avoid, and issue 15 allows it on top of the empty function's cold start and
memory. Measured in a bare interpreter (no functions-framework, no remedy), against
the same interpreter doing nothing: spawn → "ready" on stdout, and the PSS it then
holds, for each set of clients a function can use — the Kubernetes client (import
``kubernetes.client`` and ``kubernetes.config``, build an ``ApiClient`` from the
platform's kubeconfig), PyGithub (import ``github``, build a ``Github`` client), and
both in one process (what they share is counted once). Runs alternate between the
variants, so the machine's load moves them alike; each cost is a median minus the
bare median.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

from tests.benchmarks.activator import median, pss_mib

RUNS = 5
KUBE = """
from kubernetes import client, config
configuration = client.Configuration()
config.load_kube_config(config_file=sys.argv[1], client_configuration=configuration)
client.ApiClient(configuration)
"""
GITHUB = """
import github
github.Github(base_url="http://127.0.0.1:9", auth=github.Auth.Token("t" * 40))
"""
VARIANTS = {"bare": "", "kubernetes": KUBE, "github": GITHUB, "kubernetes+github": KUBE + GITHUB}
READY = "import sys\n{body}\nprint('ready', flush=True)\nsys.stdin.readline()\n"


def _one(body: str, kubeconfig: str) -> tuple[float, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", READY.format(body=body), kubeconfig],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - began
        if line.strip() != "ready":
            raise RuntimeError(f"client cost probe failed: {line!r}")
        memory = pss_mib(proc.pid)
    finally:
        proc.communicate(input="\n", timeout=30)
    return elapsed * 1000, memory


def measure(kubeconfig: str) -> dict[str, Any]:
    """Per variant: median start ms and PSS MiB; per set of clients: its cost over bare."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in VARIANTS}
    for _ in range(RUNS):
        for name, body in VARIANTS.items():
            samples[name].append(_one(body, kubeconfig))
    start = {name: median(ms for ms, _ in runs) for name, runs in samples.items()}
    pss = {name: median(mib for _, mib in runs) for name, runs in samples.items()}
    return {
        "start_ms": {name: round(value, 1) for name, value in start.items()},
        "pss_mib": {name: round(value, 1) for name, value in pss.items()},
        "cost": {
            name: {
                "start_ms": round(start[name] - start["bare"], 1),
                "pss_mib": round(pss[name] - pss["bare"], 1),
            }
            for name in VARIANTS
            if name != "bare"
        },
        "runs": RUNS,
        "method": __doc__.split("\n\n", 1)[1].replace("\n", " ").strip() if __doc__ else "",
    }


def cost_of(costs: dict[str, Any], *, kubernetes: bool, github: bool) -> dict[str, float]:
    """The client cost a function's wiring makes unavoidable (zero when it uses neither)."""
    name = "+".join(n for n, used in (("kubernetes", kubernetes), ("github", github)) if used)
    found: dict[str, float] = costs["cost"].get(name, {"start_ms": 0.0, "pss_mib": 0.0})
    return found
