"""Throughput and latency of the GitHub emulator for remedy's hot calls.

remedy's label update is measured end to end through this emulator, so the emulator
must not be what the measurement sees. The emulator runs as its own process (as
``remedy emulate github`` does on the local platform, and so the client's threads do
not share its interpreter lock); PyGithub and a raw ``requests.Session`` drive it
with 1 and 8 threads through: add a label, remove it again, get a pull request, and
list pull requests by ``head=owner:branch`` in a repository of 50 pull requests.

Targets (what remedy needs, not what was measured): each hot call answers in under
10 ms at p99 from a single raw client, and the emulator sustains at least 500
requests/s for one raw client, so a remediation's handful of GitHub calls costs
milliseconds, far below the real API's 1 s-between-writes pacing.
"""

from __future__ import annotations

import os
import queue
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
from github import Auth, Github, GithubException

from remedy.local.ports import free_port

SECONDS_PER_SCENARIO = 1.2
PULLS = 50
TOKEN = "bench-token-0123456789"
P99_TARGET_MS = 10.0
RPS_TARGET = 500.0

Op = Callable[[], None]


def _start() -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remedy.local.emulators.github.cli",
            "--port",
            str(port),
            "--token",
            TOKEN,
            "--rate-limit",
            "100000000",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in process.stdout or ()], daemon=True
    ).start()
    first = lines.get(timeout=30)
    return process, first.split(": ", 1)[1].strip()


def _seed(url: str) -> None:
    gh = Github(
        base_url=url,
        auth=Auth.Token(TOKEN),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )
    repo = gh.get_user().create_repo("bench")  # type: ignore[union-attr]
    for n in range(PULLS):
        repo.create_pull(base="main", head=f"task-{n}", title=f"Task {n}")


def _clients(url: str, kind: str, worker: int) -> dict[str, Op]:
    label = f"bench-{worker}"
    if kind == "pygithub":
        gh = Github(
            base_url=url,
            auth=Auth.Token(TOKEN),
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
        repo = gh.get_repo("remedy-bot/bench")
        pull = repo.get_pull(PULLS // 2)

        def remove() -> None:
            try:
                pull.remove_from_labels(label)
            except GithubException as error:  # only another run's leftovers
                if error.status != 404:
                    raise

        return {
            "add_label": lambda: pull.add_to_labels(label),
            "remove_label": remove,
            "get_pull": lambda: repo.get_pull(PULLS // 2).head.sha and None,
            "list_pulls_by_head": lambda: (
                [*repo.get_pulls(head=f"remedy-bot:task-{worker}")] and None
            ),
        }
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    base = f"{url}/repos/remedy-bot/bench"

    def call(method: str, path: str, **kwargs: Any) -> None:
        answer = session.request(method, base + path, timeout=10, **kwargs)
        if answer.status_code >= 400 and answer.status_code != 404:
            raise RuntimeError(f"{method} {path}: {answer.status_code}")

    issue = f"/issues/{PULLS // 2}/labels"
    return {
        "add_label": lambda: call("POST", issue, json=[label]),
        "remove_label": lambda: call("DELETE", f"{issue}/{label}"),
        "get_pull": lambda: call("GET", f"/pulls/{PULLS // 2}"),
        "list_pulls_by_head": lambda: call(
            "GET", "/pulls", params={"head": f"remedy-bot:task-{worker}"}
        ),
    }


def _measure(url: str, *, kind: str, threads: int, ops: tuple[str, ...]) -> dict[str, Any]:
    """Run ``ops`` round-robin on ``threads`` workers; latency per op and total rate."""
    latencies: dict[str, list[float]] = {op: [] for op in ops}
    lock = threading.Lock()
    clients = [_clients(url, kind, worker) for worker in range(threads)]
    start = threading.Barrier(threads + 1)
    stop_at: list[float] = []

    def work(client: dict[str, Op]) -> None:
        mine: dict[str, list[float]] = {op: [] for op in ops}
        start.wait()
        while time.perf_counter() < stop_at[0]:
            for op in ops:
                began = time.perf_counter()
                client[op]()
                mine[op].append(time.perf_counter() - began)
        with lock:
            for op in ops:
                latencies[op] += mine[op]

    workers = [threading.Thread(target=work, args=(client,)) for client in clients]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at.append(began + SECONDS_PER_SCENARIO)
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    total = sum(len(each) for each in latencies.values())
    result: dict[str, Any] = {"requests_per_s": round(total / elapsed, 1)}
    for op, samples in latencies.items():
        samples.sort()
        result[op] = {
            "n": len(samples),
            "p50_ms": round(statistics.median(samples) * 1000, 2),
            "p99_ms": round(samples[min(int(len(samples) * 0.99), len(samples) - 1)] * 1000, 2),
        }
    return result


def run() -> dict[str, Any]:
    process, url = _start()
    try:
        _seed(url)
        scenarios = {
            "labels": ("add_label", "remove_label"),
            "get_pull": ("get_pull",),
            "list_pulls_by_head": ("list_pulls_by_head",),
        }
        results: dict[str, Any] = {}
        for kind in ("raw", "pygithub"):
            for threads in (1, 8):
                key = f"{kind}_{threads}_thread{'s' if threads > 1 else ''}"
                results[key] = {
                    name: _measure(url, kind=kind, threads=threads, ops=ops)
                    for name, ops in scenarios.items()
                }
    finally:
        process.terminate()
        process.wait(timeout=20)
    single = results["raw_1_thread"]
    worst_p99 = max(single[name][op]["p99_ms"] for name, ops in scenarios.items() for op in ops)
    slowest_rps = min(single[name]["requests_per_s"] for name in scenarios)
    results["targets"] = {
        "raw_single_thread_worst_p99_ms": {
            "value": worst_p99,
            "target": P99_TARGET_MS,
            "met": worst_p99 < P99_TARGET_MS,
        },
        "raw_single_thread_slowest_requests_per_s": {
            "value": slowest_rps,
            "target": RPS_TARGET,
            "met": slowest_rps >= RPS_TARGET,
        },
    }
    return results
