"""End-to-end remediation latency on the local platform, and the original system's way.

Measured (issue 5): from the moment a signed push webhook is POSTed to webhook-gateway
until every effect of the remediation is applied and seen — the task's Tess run
(Pending: deleted at once) and Cleo run (Running: asked to stop, acknowledged at once
by the simulated agent through control-api, which deletes it) are gone, and the play
workflow is at ``waiting-pr-created`` with its suspend node Succeeded. Each effect is
timed by its Kubernetes watch event (no polling, so no poll granularity). The PR's
labels are reset before the resume can happen (workflow-resume waits for
``labels.updated``) and each PR is read back after its batch; Rex's run must be left.

The platform is ``remedy up`` in-process (Kubernetes and GitHub emulators, three
redis-servers, every function its own functions-framework process, the broker in
this process), its reconciler not ticking (its periodic work is not per remediation,
and agents that acknowledge at once leave it nothing to do). Every remediation is a
fresh task. Phases: the first remediation after start (cold, for information), a
warm-up, 40 one at a time, 200 with 20 in flight (closed loop), duplicates, baseline.

API calls: both emulators' counters are zeroed after seeding and read once the
concurrent batch is over and the broker idle; the benchmark makes no request in
between (the watches were opened before), so the counts are remedy's own. The
duplicate is each of ten completed deliveries sent again, counted the same way.

Baseline: ``baseline/step_script.sh`` does the original's steps as processes (kubectl,
curl) against the same emulators; speedup = its p50 / remedy's p50 at concurrency 1.

Targets (issue 15): ratios to the floors bench_floor measures in the same run (before
the platform starts when run alone), see :mod:`tests.benchmarks.remediation_targets`.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter

from remedy.local.broker.records import Outcome
from tests.benchmarks import bench_floor, remediation_targets
from tests.benchmarks.baseline.runner import PROCESSES, Baseline
from tests.benchmarks.effects import (
    ObjectWatch,
    kube_stats,
    platform_cpu_seconds,
    reset_api_stats,
)
from tests.benchmarks.load import machine, percentile, summary_ms
from tests.chaos.harness import Harness
from tests.chaos.seeding import (
    AGENT_NS,
    ARGO_NS,
    CODERUN,
    REPO,
    WORKFLOW,
    seed_remediation_task,
    sha,
)

SEQUENTIAL, CONCURRENT, CONCURRENCY, WARM_UP = 40, 200, 20, 40
DUPLICATES, BASELINE_RUNS = 10, 10
TIMEOUT_S, COLD_TIMEOUT_S = 5.0, 30.0
"""A warm remediation takes well under a second even with 20 in flight."""
PUSHED_AT = int(time.time()) + 3600
"""Rex's pushes come after every seeded run was created (remedy orders by push time)."""
REMEDIATED = {"remediation-in-progress"}


@dataclass
class Remediation:
    task: int
    delivery: str
    started: float = 0.0
    answered: float = 0.0
    status: int = 0
    finished: float | None = None

    @property
    def seconds(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


class Bench:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        # one kept-alive connection to the gateway per sender: no reconnects measured
        harness.gateway.mount("http://", HTTPAdapter(pool_maxsize=CONCURRENCY))
        self.workflows = ObjectWatch(harness, WORKFLOW, ARGO_NS)
        self.runs = ObjectWatch(harness, CODERUN, AGENT_NS)
        self.prs: dict[int, int] = {}
        self._tasks: Iterator[int] = itertools.count(1)

    def seed(self, count: int) -> list[int]:
        tasks = [next(self._tasks) for _ in range(count)]
        with ThreadPoolExecutor(max_workers=4) as pool:
            numbers = pool.map(lambda task: seed_remediation_task(self.harness, task), tasks)
            self.prs.update(zip(tasks, numbers, strict=True))
        self.runs.quiet(for_s=0.3, timeout=10)  # the simulator has seen and settled them
        return tasks

    def remediate(
        self, task: int, *, delivery: str | None = None, timeout: float = TIMEOUT_S
    ) -> Remediation:
        done = Remediation(task, delivery or f"bench-{task}")
        done.started = time.monotonic()
        done.status = self.harness.push(
            task=task,
            before=sha(task, 0),
            after=sha(task, 1),
            delivery=done.delivery,
            pushed_at=PUSHED_AT,
        )
        done.answered = time.monotonic()
        name, stopped = f"play-task-{task}", {f"cleo-{task}", f"tess-{task}"}
        deadline = done.started + timeout
        if (
            done.status == 202
            and self.workflows.wait(
                lambda w: _resumed(w.objects.get(name)), timeout=deadline - time.monotonic()
            )
            and self.runs.wait(
                lambda r: stopped <= r.deleted.keys(), timeout=deadline - time.monotonic()
            )
        ):
            ends = [self.workflows.changed_at[name], *(self.runs.deleted[s] for s in stopped)]
            done.finished = max(ends)
        return done

    def closed_loop(self, tasks: list[int], *, concurrency: int) -> tuple[list[Remediation], float]:
        queue, lock, results = iter(tasks), threading.Lock(), []

        def worker() -> None:
            while True:
                with lock:
                    task = next(queue, None)
                if task is None:
                    return
                outcome = self.remediate(task)
                with lock:
                    results.append(outcome)

        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            for _ in range(concurrency):
                pool.submit(worker)
        return results, time.monotonic() - started

    def problems(self, done: list[Remediation], *, resumed_by: str = "remedy") -> list[str]:
        found = []
        for each in done:
            task = each.task
            labels = self.harness.labels(self.prs[task])
            if each.finished is None:
                found.append(f"task {task}: not remediated in time (gateway: {each.status})")
            elif labels != {f"task-{task}", *REMEDIATED}:
                found.append(f"task {task}: PR labels {sorted(labels)}")
            elif f"rex-{task}" not in self.runs.objects:
                found.append(f"task {task}: Rex's run is gone")
            elif not _resumed(self.workflows.objects.get(f"play-task-{task}"), by=resumed_by):
                found.append(f"task {task}: workflow not resumed by {resumed_by}")
        return found

    def hops(self, done: list[Remediation]) -> dict[str, float]:
        """Median ms after the POST at which each step of the chain had finished."""
        finished: dict[str, float] = {}
        for record in self.harness.platform.broker.records.deliveries():  # type: ignore[union-attr]
            if record.outcome in (Outcome.REPLIED, Outcome.ACCEPTED):
                finished.setdefault(record.event_id, record.at)
        marks: dict[str, list[float]] = {}
        for each in (d for d in done if d.finished is not None):
            d, task = each.delivery, each.task
            resumes = [
                finished.get(f"{d}:labels.updated"),
                finished.get(f"{d}:agents.cancelled"),
                finished.get(f"{d}:agents.stopped"),
            ]
            steps = {
                "gateway_answered": each.answered,
                "push_intake_replied": finished.get(d),
                "agent_cancel_and_label_update_replied": finished.get(f"{d}:remediation.requested"),
                "tess_deleted_seen": self.runs.deleted.get(f"tess-{task}"),
                "cleo_acknowledged_and_deleted_seen": self.runs.deleted.get(f"cleo-{task}"),
                "agents_cancelled_delivered": finished.get(f"{d}:agents.cancelled"),
                "labels_updated_delivered": finished.get(f"{d}:labels.updated"),
                "workflow_resume_last_replied": max((t for t in resumes if t), default=None),
                "workflow_resumed_seen": self.workflows.changed_at.get(f"play-task-{task}"),
            }
            for step, at in steps.items():
                if at is not None:
                    marks.setdefault(step, []).append((at - each.started) * 1000)
        return {step: round(percentile(ms, 50), 2) for step, ms in marks.items()}

    def stop(self) -> None:
        self.workflows.stop()
        self.runs.stop()


def _resumed(workflow: dict[str, Any] | None, *, by: str = "remedy") -> bool:
    if workflow is None:
        return False
    node: dict[str, Any] = workflow.get("status", {}).get("nodes", {}).get("wait-0", {})
    stage = workflow["metadata"]["labels"].get("current-stage")
    return bool(
        stage == "waiting-pr-created"
        and node.get("phase") == "Succeeded"
        and str(node.get("message", "")).startswith(f"Resumed by: {by}")
    )


def _latencies(done: list[Remediation]) -> dict[str, Any]:
    seconds = [d.seconds for d in done if d.seconds is not None]
    return {**summary_ms(seconds), "errors": len(done) - len(seconds)}


def _api_counts(bench: Bench) -> tuple[dict[str, int], dict[str, int]]:
    """Both emulators' counts once every delivery in flight has finished."""
    bench.harness.platform.broker.wait_idle(timeout=30)  # type: ignore[union-attr]
    github: dict[str, Any] = bench.harness.github_stats()
    kube = kube_stats(bench.harness)
    return dict(github["requests"]), {k: v for k, v in kube.items() if k != "total"}


def _per(counts: dict[str, int], count: int) -> float:
    return round(sum(counts.values()) / max(count, 1), 2)


class NotRemediating(RuntimeError):
    """The warm-up's remediations did not complete: measuring more would only time out."""


def _measure(bench: Bench) -> dict[str, Any]:
    cold = bench.remediate(bench.seed(1)[0], timeout=COLD_TIMEOUT_S)
    warm, _ = bench.closed_loop(bench.seed(WARM_UP), concurrency=CONCURRENCY)
    failed = bench.problems(warm)
    for task in [] if failed else bench.seed(5):
        warm.append(bench.remediate(task))
        failed = bench.problems(warm[-1:])
        if failed:
            break
    if failed:
        raise NotRemediating(f"{len(failed)} of {len(warm)} warm-up remediations: {failed[:5]}")

    sequential = [bench.remediate(task) for task in bench.seed(SEQUENTIAL)]
    tasks = bench.seed(CONCURRENT)
    reset_api_stats(bench.harness)
    cpu_before = platform_cpu_seconds(bench.harness)
    concurrent, wall = bench.closed_loop(tasks, concurrency=CONCURRENCY)
    github, kube = _api_counts(bench)
    cpu_after = platform_cpu_seconds(bench.harness)
    cpu = {
        name: round((used - cpu_before.get(name, 0.0)) * 1000 / len(tasks), 1)
        for name, used in sorted(cpu_after.items())
    }
    cpu_ms = sum(cpu.values())

    again = [d for d in sequential if d.finished is not None][:DUPLICATES]
    before = {d.task: bench.workflows.changed_at[f"play-task-{d.task}"] for d in again}
    reset_api_stats(bench.harness)
    for each in again:
        bench.remediate(each.task, delivery=each.delivery)
    dup_github, dup_kube = _api_counts(bench)
    changed = [
        d.task for d in again if bench.workflows.changed_at[f"play-task-{d.task}"] != before[d.task]
    ]

    problems = bench.problems([cold, *sequential, *concurrent])
    cpus = os.cpu_count() or 1
    return {
        "cold_first_remediation_ms": round((cold.seconds or float("nan")) * 1000, 1),
        "concurrency_1": _latencies(sequential),
        "concurrency_20": _latencies(concurrent),
        "remediations_per_s": round(len(concurrent) / wall, 1),
        "hops_p50_ms_after_post": {
            "concurrency_1": bench.hops(sequential),
            "concurrency_20": bench.hops(concurrent),
        },
        "github_requests_per_remediation": _per(github, len(tasks)),
        "github_requests_by_endpoint": github,
        "kube_requests_per_remediation": _per(kube, len(tasks)),
        "kube_requests_by_verb": kube,
        "github_requests_duplicate": _per(dup_github, len(again)),
        "kube_requests_duplicate": _per(dup_kube, len(again)),
        "duplicates_that_changed_a_workflow": changed,
        "cpu_ms_per_remediation": round(cpu_ms, 1),
        "cpu_ms_per_remediation_by_process": cpu,
        "functions_cpu_ms_per_remediation": remediation_targets.functions_cpu_ms(cpu),
        "cpu_bound_floor_mean_ms_at_20": round(CONCURRENCY * cpu_ms / cpus, 1),
        "problems": problems[:10],
        "problem_count": len(problems),
        "method": METHOD,
    }


METHOD = {
    "latency": "POST of the signed push to webhook-gateway until the last of: Tess's and "
    "Cleo's CodeRuns DELETED and the workflow resumed (stage waiting-pr-created, suspend "
    "node Succeeded), each timed by its Kubernetes watch event; PR labels and Rex's run "
    "checked afterwards (labels are reset before workflow-resume may resume)",
    "concurrency_20": f"closed loop: {CONCURRENCY} pushes in flight, {CONCURRENT} fresh tasks",
    "api_counts": "both emulators' counters zeroed after seeding, read when the broker is "
    "idle after the concurrent batch; the benchmark makes no request in between (its "
    "watches were opened before); the reconciler does not tick",
    "duplicates": f"{DUPLICATES} completed deliveries sent again (same X-GitHub-Delivery)",
    "cpu": "utime+stime of every platform process (and this one, which holds the broker) "
    "over the concurrent batch; floor = concurrency x CPU per remediation / CPUs",
    "functions_cpu": "the same CPU, of remedy's function processes only (not the "
    "emulators, simulators, Redis, the broker or the benchmark)",
    "hops": "median ms after the POST at which each step's delivery ended (broker "
    "records) or its effect was seen (watch)",
}


def _baseline(bench: Bench, remedy_p50_ms: float) -> dict[str, Any]:
    baseline = Baseline(bench.harness.state, repo=REPO, agent_ns=AGENT_NS, argo_ns=ARGO_NS)
    try:
        baseline.warm()
        tasks = bench.seed(BASELINE_RUNS + 1)
        baseline.run(task=tasks[0], branch=f"task-{tasks[0]}-chaos")  # untimed
        reset_api_stats(bench.harness)
        runs = []
        for task in tasks[1:]:
            began = time.monotonic()
            elapsed = baseline.run(task=task, branch=f"task-{task}-chaos")
            runs.append(Remediation(task, "baseline", began, began, 202, began + elapsed))
        github, kube = _api_counts(bench)
        bench.runs.wait(lambda r: all(f"cleo-{t}" in r.deleted for t in tasks), timeout=5)
        problems = bench.problems(runs, resumed_by="baseline")
    finally:
        baseline.close()
    stats = _latencies(runs)
    return {
        "script": "tests/benchmarks/baseline/step_script.sh",
        "processes_per_remediation": len(PROCESSES),
        "latency": stats,
        "github_requests_per_remediation": _per(github, len(runs)),
        "kube_requests_per_remediation": _per(kube, len(runs)),
        "problems": problems,
        "speedup": round(stats["p50_ms"] / remedy_p50_ms, 2),
    }


def run() -> dict[str, Any]:
    floor = bench_floor.measured()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="remedy-bench-") as workdir:
        harness = Harness.start(Path(workdir), function_env={}, ping_seconds=3600)
        bench: Bench | None = None
        try:
            bench = Bench(harness)
            report = _measure(bench)
            report["baseline"] = _baseline(bench, report["concurrency_1"]["p50_ms"])
        except NotRemediating as failure:
            log = (Path(workdir) / "platform.log").read_text(errors="replace").splitlines()
            warnings = [line for line in log if " WARNING " in line or " ERROR " in line]
            report = {"aborted": str(failure), "platform_log_warnings": warnings[-5:]}
        finally:
            if bench is not None:
                bench.stop()
            harness.stop()
    report["machine"] = machine(load)
    report["floors"] = remediation_targets.floors_used(floor)
    report["targets"] = remediation_targets.targets(report, floor)
    return report
