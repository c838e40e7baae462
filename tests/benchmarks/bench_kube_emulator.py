"""Throughput and latency of the Kubernetes API emulator for remedy's hot calls.

remedy's end-to-end latency (p50 ≤ 30 ms across several functions, each making
several Kubernetes calls) is measured through this emulator, so later benchmarks
need to know how much of a measured time is the emulator's. The emulator runs as its
own process, as ``remedy emulate kube`` does on the local platform (so the client's
threads do not share its interpreter lock), seeded with 50 CodeRuns across 5 tasks.
The official kubernetes client drives it over HTTPS with 1 and 8 threads through the
two hot calls: list CodeRuns by remedy's label selector
(``task-id=N,github-app in (5DLabs-Cleo,5DLabs-Tess)``) and a JSON merge patch of a
CodeRun's annotations (a real write: the value changes every time).

Targets (what remedy needs, not what was measured): from one client thread each hot
call answers within 2 ms at p50 and 10 ms at p99, so ten calls of a remediation cost
the emulator at most ~20 ms of the 30 ms budget even at p50 x 10; and one thread
sustains at least 300 calls/s.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, config

from remedy.local.ports import free_port
from tests.benchmarks.load import summary_ms, target

SECONDS_PER_SCENARIO = 2.0
TASKS, APPS = 5, ("5DLabs-Rex", "5DLabs-Cleo", "5DLabs-Tess", "5DLabs-Rex-2", "5DLabs-Cleo-2")
GROUP, VERSION, PLURAL = "agents.platform", "v1", "coderuns"
P50_TARGET_MS, P99_TARGET_MS, RPS_TARGET = 2.0, 10.0, 300.0


def _start(kubeconfig: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remedy.local.emulators.kube.cli",
            "--port",
            str(free_port()),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in process.stdout or ():
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    lines.get(timeout=30)  # the URL: serving
    return process


def _api(kubeconfig: Path) -> client.CustomObjectsApi:
    load: Any = config.new_client_from_config
    return client.CustomObjectsApi(load(config_file=str(kubeconfig)))


def _seed(api: client.CustomObjectsApi) -> None:
    for task in range(TASKS):
        for index in range(10):
            app = APPS[index % len(APPS)]
            api.create_namespaced_custom_object(
                GROUP,
                VERSION,
                "default",
                PLURAL,
                {
                    "apiVersion": "agents.platform/v1",
                    "kind": "CodeRun",
                    "metadata": {
                        "name": f"task-{task}-run-{index}",
                        "labels": {"task-id": str(task), "github-app": app},
                    },
                    "spec": {
                        "taskId": task,
                        "service": "svc",
                        "repositoryUrl": "https://github.com/5dlabs/demo",
                        "docsRepositoryUrl": "https://github.com/5dlabs/docs",
                        "workingDirectory": ".",
                        "model": "claude-sonnet",
                        "githubApp": app,
                    },
                },
            )


def _calls(api: client.CustomObjectsApi, worker: int) -> dict[str, Callable[[int], None]]:
    task = worker % TASKS
    selector = f"task-id={task},github-app in (5DLabs-Cleo,5DLabs-Tess)"
    name = f"task-{task}-run-{worker % 10}"

    def list_by_selector(_: int) -> None:
        found: Any = api.list_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, label_selector=selector
        )
        if len(found["items"]) != 4:
            raise RuntimeError(f"selector {selector} found {len(found['items'])} runs, not 4")

    def merge_patch(count: int) -> None:
        body = {"metadata": {"annotations": {"remedy.dev/bench": f"{worker}-{count}"}}}
        api.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, name, body)

    return {"list_by_selector": list_by_selector, "merge_patch": merge_patch}


def _measure(kubeconfig: Path, *, call: str, threads: int) -> dict[str, Any]:
    apis = [_api(kubeconfig) for _ in range(threads)]
    samples: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    stop_at: list[float] = []

    def work(worker: int) -> None:
        run = _calls(apis[worker], worker)[call]
        run(0)  # connection set up outside the measurement
        mine: list[float] = []
        barrier.wait()
        count = 1
        while time.perf_counter() < stop_at[0]:
            began = time.perf_counter()
            run(count)
            mine.append(time.perf_counter() - began)
            count += 1
        with lock:
            samples.extend(mine)

    workers = [threading.Thread(target=work, args=(worker,)) for worker in range(threads)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at.append(began + SECONDS_PER_SCENARIO)
    barrier.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    for api in apis:
        api.api_client.close()
    return {"requests_per_s": round(len(samples) / elapsed, 1), **summary_ms(samples)}


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        kubeconfig = Path(folder) / "kubeconfig"
        process = _start(kubeconfig)
        try:
            seeding = _api(kubeconfig)
            _seed(seeding)
            seeding.api_client.close()
            results: dict[str, Any] = {}
            for threads in (1, 8):
                key = f"{threads}_thread{'s' if threads > 1 else ''}"
                results[key] = {
                    call: _measure(kubeconfig, call=call, threads=threads)
                    for call in ("list_by_selector", "merge_patch")
                }
        finally:
            process.terminate()
            process.wait(timeout=20)
    single = results["1_thread"]
    results["targets"] = {
        f"{call}_single_thread_{metric}": target(single[call][key], limit)
        for call in ("list_by_selector", "merge_patch")
        for metric, key, limit in (
            ("p50_ms", "p50_ms", P50_TARGET_MS),
            ("p99_ms", "p99_ms", P99_TARGET_MS),
        )
    }
    for call in ("list_by_selector", "merge_patch"):
        rate = single[call]["requests_per_s"]
        results["targets"][f"{call}_single_thread_requests_per_s"] = {
            "value": rate,
            "target": RPS_TARGET,
            "met": rate >= RPS_TARGET,
        }
    return results
