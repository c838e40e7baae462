"""Feedback-loop latencies on the local platform: QA feedback to a Rex run, and stage resumes.

Measured (issue 6), each from the moment the signed webhook is POSTed to webhook-gateway:

- feedback → CodeRun: a Tess comment carrying the marker ("🔴 Required Changes") on a
  PR labelled ``task-<id>``, until the Rex remediation CodeRun (iteration 1) exists;
- stage resume: a Tess approval (``pull_request_review``, ``approved``) on the PR of a
  workflow suspended at ``waiting-pr-approved``, until that suspend node is Succeeded.

Each effect is timed by its Kubernetes watch event (no polling). Every event is for a
fresh task (a PR labelled ready-for-qa and ``task-<id>``, a play workflow); the
platform is ``remedy up`` in-process with the reconciler not ticking, and every
function is warmed up first (the first event of each kind after start is reported as
cold, for information). Afterwards each run's labels, each PR's labels and each
workflow are checked (the feedback's PR: ready-for-qa off, exactly ``task-<id>``,
remediation-in-progress, iteration-1). GitHub and Kubernetes requests per event are
counted as in bench_remediation: emulator counters zeroed after seeding, read once the
broker is idle; a feedback costs 2 GitHub requests (DELETE ready-for-qa, POST labels).

No target is given for these; the informative one is p99 ≤ 150 ms one at a time.
"""

from __future__ import annotations

import itertools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.benchmarks.effects import ObjectWatch, kube_stats, reset_api_stats
from tests.benchmarks.load import summary_ms, target
from tests.chaos.harness import Harness
from tests.chaos.seeding import AGENT_NS, ARGO_NS, CODERUN, WORKFLOW
from tests.chaos.webhooks import comment_body, review_body, send_webhook

EVENTS, WARM_UP = 50, 10
TIMEOUT_S, COLD_TIMEOUT_S = 5.0, 30.0
P99_TARGET_MS = 150.0
TESS = "5DLabs-Tess[bot]"
MARKER = "## QA review\n\n### 🔴 Required Changes\n\n- the login form loses its state\n"
APPROVED = "waiting-pr-approved"


class Bench:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness
        self.workflows = ObjectWatch(harness, WORKFLOW, ARGO_NS)
        self.runs = ObjectWatch(harness, CODERUN, AGENT_NS)
        self.prs: dict[int, int] = {}
        self._tasks = itertools.count(1)
        self._ids = itertools.count(1)

    def seed(self, count: int, *, stage: str | None = None) -> list[int]:
        tasks = [next(self._tasks) for _ in range(count)]
        for task in tasks:
            self.prs[task] = self.harness.seed_task(task)
            if stage is not None:
                self._suspend_at(task, stage)
        self.workflows.quiet(for_s=0.2, timeout=10)
        return tasks

    def _suspend_at(self, task: int, stage: str) -> None:
        """The workflow went on and suspended at ``stage`` (as the play template does)."""
        workflow = self.harness.workflow(task)
        workflow["metadata"]["labels"]["current-stage"] = stage
        workflow["status"]["nodes"]["wait-0"]["inputs"]["parameters"][0]["value"] = stage
        self.harness.custom.replace_namespaced_custom_object(
            *WORKFLOW[:2], ARGO_NS, WORKFLOW[2], f"play-task-{task}", workflow
        )

    def feedback(self, task: int, *, timeout: float = TIMEOUT_S) -> float | None:
        """Seconds from the comment's POST until the Rex run exists; None if it did not."""
        payload = comment_body(
            task=task, pr=self.prs[task], comment_id=next(self._ids), author=TESS, body=MARKER
        )
        name = f"rex-remediation-t{task}-i1"
        return self._timed(
            lambda: send_webhook(
                self.harness, event="issue_comment", payload=payload, delivery=f"fb-{task}"
            ),
            lambda: self.runs.added.get(name),
            watch=self.runs,
            timeout=timeout,
        )

    def approval(self, task: int, *, timeout: float = TIMEOUT_S) -> float | None:
        """Seconds from the approval's POST until the waiting-pr-approved wait is over."""
        payload = review_body(
            task=task, pr=self.prs[task], review_id=next(self._ids), author=TESS, state="approved"
        )
        name = f"play-task-{task}"
        return self._timed(
            lambda: send_webhook(
                self.harness, event="pull_request_review", payload=payload, delivery=f"ap-{task}"
            ),
            lambda: self.workflows.changed_at[name] if _resumed(self.workflows, name) else None,
            watch=self.workflows,
            timeout=timeout,
        )

    @staticmethod
    def _timed(
        send: Callable[[], int],
        seen: Callable[[], float | None],
        *,
        watch: ObjectWatch,
        timeout: float,
    ) -> float | None:
        started = time.monotonic()
        if send() != 202 or not watch.wait(lambda _: seen() is not None, timeout=timeout):
            return None
        return (seen() or started) - started

    def problems(self, feedback: list[int], approved: list[int]) -> list[str]:
        found = []
        for task in feedback:
            run = self.runs.objects.get(f"rex-remediation-t{task}-i1")
            labels = self.harness.labels(self.prs[task])
            if run is None or run["metadata"]["labels"].get("task-id") != str(task):
                found.append(f"task {task}: no Rex remediation run for iteration 1")
            elif labels != {f"task-{task}", "remediation-in-progress", "iteration-1"}:
                found.append(f"task {task}: PR labels {sorted(labels)}")
        found += [
            f"task {task}: {APPROVED} not resumed"
            for task in approved
            if not _resumed(self.workflows, f"play-task-{task}")
        ]
        return found

    def stop(self) -> None:
        self.workflows.stop()
        self.runs.stop()


def _resumed(workflows: ObjectWatch, name: str) -> bool:
    node = (workflows.objects.get(name) or {}).get("status", {}).get("nodes", {}).get("wait-0")
    return bool(
        node
        and node["inputs"]["parameters"][0]["value"] == APPROVED
        and node.get("phase") == "Succeeded"
        and str(node.get("message", "")).startswith("Resumed by: remedy")
    )


def _latencies(seconds: list[float | None]) -> dict[str, Any]:
    done = [s for s in seconds if s is not None]
    return {**summary_ms(done), "errors": len(seconds) - len(done)}


def _requests(bench: Bench, count: int) -> dict[str, float]:
    bench.harness.platform.broker.wait_idle(timeout=30)  # type: ignore[union-attr]
    github: dict[str, Any] = bench.harness.github_stats()
    kube = kube_stats(bench.harness)
    return {
        "github_requests_per_event": round(github["total"] / count, 2),
        "kube_requests_per_event": round(kube.get("total", 0) / count, 2),
    }


def _measure(bench: Bench) -> dict[str, Any]:
    cold_feedback = bench.feedback(bench.seed(1)[0], timeout=COLD_TIMEOUT_S)
    cold_approval = bench.approval(bench.seed(1, stage=APPROVED)[0], timeout=COLD_TIMEOUT_S)
    for task in bench.seed(WARM_UP):
        bench.feedback(task)
    for task in bench.seed(WARM_UP, stage=APPROVED):
        bench.approval(task)

    feedback_tasks = bench.seed(EVENTS)
    reset_api_stats(bench.harness)
    feedback = [bench.feedback(task) for task in feedback_tasks]
    feedback_requests = _requests(bench, EVENTS)
    approval_tasks = bench.seed(EVENTS, stage=APPROVED)
    reset_api_stats(bench.harness)
    approvals = [bench.approval(task) for task in approval_tasks]
    approval_requests = _requests(bench, EVENTS)
    problems = bench.problems(feedback_tasks, approval_tasks)
    return {
        "cold_ms": {
            "feedback_to_coderun": round((cold_feedback or float("nan")) * 1000, 1),
            "stage_resume": round((cold_approval or float("nan")) * 1000, 1),
        },
        "feedback_to_coderun": {**_latencies(feedback), **feedback_requests},
        "stage_resume": {**_latencies(approvals), **approval_requests},
        "problems": problems[:10],
        "problem_count": len(problems),
    }


def run() -> dict[str, Any]:
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="remedy-bench-") as workdir:
        harness = Harness.start(Path(workdir), function_env={}, ping_seconds=3600)
        bench: Bench | None = None
        try:
            bench = Bench(harness)
            report = _measure(bench)
        finally:
            if bench is not None:
                bench.stop()
            harness.stop()
    report["machine"] = {"cpus": os.cpu_count(), "load_1m_at_start": round(load, 2)}
    report["targets"] = {
        "feedback_to_coderun_p99_ms": target(
            report["feedback_to_coderun"]["p99_ms"], P99_TARGET_MS
        ),
        "stage_resume_p99_ms": target(report["stage_resume"]["p99_ms"], P99_TARGET_MS),
        "every_event_verified": target(report["problem_count"], 0),
    }
    return report
