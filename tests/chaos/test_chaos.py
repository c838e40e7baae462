"""Chaos on the local platform: exactly-once in effect under duplicates, faults and crashes.

Seeded (``CHAOS_SEED`` to replay; the seed is printed and in every failure message).
Five tasks, four Rex pushes each (twenty), every delivery sent twice — some pairs at
the same moment — in a shuffled order, through the real gateway → broker → functions;
meanwhile the Kubernetes emulator injects latency, 5xx on CodeRun patches and 409
storms on state writes, GitHub answers some label writes with 5xx, agent-cancel is
killed mid-step (SIGKILL) and restarted, and one of the three Redis masters (the
ledger's) goes down. Two Tess feedback comments per task (each also sent twice) are
mixed in. One task's Cleo never acknowledges (the forced path). A workflow driver plays
the template: a resumed workflow suspends again later.

Afterwards: no Cleo/Tess run of a task survives unless it works on the newest head (a
run started for it after the pushes survives late redeliveries); Rex's runs and another
task's run are untouched; every PR has remediation-in-progress and not ready-for-qa;
every workflow is at waiting-pr-created, resumed for the newest epoch, no epoch resumed
twice; each task has exactly one Rex remediation run per feedback (iterations 1 and 2) and
the iteration-2 label only; nothing is stuck — no lock key, no cancellation waiting.
"""

from __future__ import annotations

import os
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from tests.chaos.harness import (
    Harness,
    WorkflowDriver,
    comment_body,
    rex_runs,
    seed_remediation_task,
    send_webhook,
    sha,
    wait_until,
)

pytestmark = pytest.mark.e2e

TASKS = [101, 102, 103, 104, 105]
PUSHES = 4
PUSHED_AT = int(time.time()) + 3600
"""Rex's pushes happen a second apart, after every seeded run was created."""
RESUMED = re.compile(r"^Resumed by: remedy \(remediation, epoch (\d+)\)$")
MARKER = "## 🔴 Required Changes"
TESS = "5DLabs-Tess[bot]"
IGNORING = 103
"""This task's Cleo never acknowledges: the reconciler must force it."""


@pytest.fixture
def chaos(tmp_path: Path) -> Harness:
    harness = Harness.start(
        tmp_path,
        function_env={
            "REMEDY_CANCEL_GRACE_SECONDS": "2",
            "REMEDY_FORCE_GRACE_SECONDS": "0",
            "REMEDY_LEDGER_LEASE_SECONDS": "2",
            "REMEDY_SAGA_DEADLINE_SECONDS": "6",
        },
    )
    yield harness  # type: ignore[misc]
    harness.stop()


def test_remediation_holds_under_chaos(chaos: Harness) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"chaos seed: {seed} (replay with CHAOS_SEED={seed})")
    rng = random.Random(seed)
    prs = {
        task: seed_remediation_task(chaos, task, ack_delay_s="never" if task == IGNORING else "0.1")
        for task in TASKS
    }
    chaos.coderun("cleo-other", task=999, agent="5DLabs-Cleo", phase="Running")
    driver = WorkflowDriver(chaos, TASKS).start()

    deliveries = [(task, n) for task in TASKS for n in range(1, PUSHES + 1)]
    comments = [(task, PUSHES + k) for task in TASKS for k in (1, 2)]
    sends = [(task, n, copy) for task, n in deliveries + comments for copy in (0, 1)]
    rng.shuffle(sends)
    chaos.kube_fault(kind="latency", latency_ms=30, probability=0.2)
    chaos.kube_fault(
        kind="status", verb="patch", resource="coderuns", status=500, probability=0.1, count=6
    )
    chaos.kube_fault(
        kind="conflict", verb="update", resource="configmaps", probability=0.2, count=10
    )
    chaos.github_fault(status=502, method="POST", count=3)
    answers: list[tuple[tuple[int, int, int], int]] = []
    lock = threading.Lock()

    def send(item: tuple[int, int, int]) -> None:
        task, n, _copy = item
        if n > PUSHES:  # a Tess feedback comment, mixed in with the pushes
            status = send_webhook(
                chaos,
                event="issue_comment",
                payload=comment_body(
                    task=task, pr=prs[task], comment_id=task * 100 + n, author=TESS, body=MARKER
                ),
                delivery=f"chaos-{seed}-fb-{task}-{n}",
            )
            with lock:
                answers.append((item, status))
            return
        status = chaos.push(
            task=task,
            before=sha(task, n - 1),
            after=sha(task, n),
            delivery=f"chaos-{seed}-{task}-{n}",
            pushed_at=PUSHED_AT + n,
        )
        with lock:
            answers.append((item, status))

    with ThreadPoolExecutor(max_workers=8) as pool:
        for index, item in enumerate(sends):
            if index == len(sends) // 3:
                chaos.platform.redis[0].stop()  # the ledger's master
            if index == len(sends) // 2:
                chaos.kill("agent-cancel")
                threading.Timer(0.5, chaos.platform.restart, args=("agent-cancel",)).start()
            pool.submit(send, item)
            if rng.random() < 0.3:
                pool.submit(send, item)  # the same delivery at the same moment
    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {202, 502}, f"seed {seed}: gateway answers {statuses}"
    # GitHub redelivers a delivery that got a 5xx; those are sent once more
    retries = [item for item, status in answers if status == 502]
    for item in retries:
        send(item)

    def settled(task: int) -> bool:
        state = chaos.remediation(task)
        return (
            state is not None
            and state.epoch > 0
            and state.resumed_epoch == state.epoch
            and state.labels_epoch == state.epoch
            and state.all_stopped(state.epoch)
            and any(h.sha == sha(task, PUSHES) and h.epoch == state.epoch for h in state.heads)
        )

    def describe() -> str:
        lines = []
        for task in TASKS:
            state = chaos.remediation(task)
            if state is None:
                lines.append(f"task {task}: no state")
                continue
            waiting = [f"{c.name}:{c.status}" for c in state.cancellations_for(state.epoch)]
            lines.append(
                f"task {task}: epoch {state.epoch} labels {state.labels_epoch} resumed "
                f"{state.resumed_epoch} kept {state.kept_resume} cancellations {waiting} "
                f"heads {[h.sha[-2:] for h in state.heads]} last {state.history[-3:]}"
            )
        return "\n".join(lines)

    wait_until(
        lambda: all(settled(t) for t in TASKS),
        timeout=90,
        what=f"every task to settle (seed {seed})",
        describe=describe,
    )
    chaos.clear_kube_faults()

    # a run started for the newest head after the pushes, then late redeliveries
    for task in TASKS:
        chaos.coderun(
            f"cleo-{task}-newest",
            task=task,
            agent="5DLabs-Cleo",
            phase="Running",
            head=sha(task, PUSHES),
        )
    for task, n in rng.sample(deliveries, 6):
        chaos.push(
            task=task,
            before=sha(task, n - 1),
            after=sha(task, n),
            delivery=f"chaos-{seed}-{task}-{n}",
            pushed_at=PUSHED_AT + n,
        )
    wait_until(lambda: all(settled(t) for t in TASKS), timeout=30, what=f"quiet (seed {seed})")
    driver.stop()

    runs = chaos.coderuns()
    for task in TASKS:
        survivors = {
            name
            for name, run in runs.items()
            if run["spec"]["taskId"] == task
            and run["spec"]["githubApp"] != "5DLabs-Rex"
            and run.get("status", {}).get("phase") not in ("Succeeded", "Cancelled")
        }
        assert survivors == {f"cleo-{task}-newest"}, f"seed {seed}: task {task}: {survivors}"
        rex = runs[f"rex-{task}"]["metadata"].get("annotations") or {}
        assert not any(k.startswith("remedy.dev/cancel") for k in rex), f"seed {seed}: Rex touched"
        runs_for_feedback = sorted(
            int(run["metadata"]["labels"]["remediation-iteration"])
            for run in rex_runs(chaos, task).values()
        )
        assert runs_for_feedback == [1, 2], f"seed {seed}: task {task}: {runs_for_feedback}"
        assert chaos.labels(prs[task]) == {
            f"task-{task}",
            "remediation-in-progress",
            "iteration-2",
        }, f"seed {seed}: task {task}: {chaos.labels(prs[task])}"
        state = chaos.remediation(task)
        assert state is not None
        assert state.resumed_epoch == state.epoch, f"seed {seed}: newest epoch's resume lost"
        workflow = chaos.workflow(task)
        assert workflow["metadata"]["labels"]["current-stage"] == "waiting-pr-created", seed
        marks = Counter(
            int(match.group(1))
            for node in workflow["status"]["nodes"].values()
            if (match := RESUMED.match(node.get("message", "")))
        )
        assert marks and max(marks.values()) == 1, f"seed {seed}: task {task} resumed {marks}"
        assert state.resumed_epoch in marks, f"seed {seed}: task {task}: newest resume lost"
        if task == IGNORING:
            assert any(c.status == "forced" for c in state.cancellations.values()), (
                f"seed {seed}: {task}'s Cleo never acknowledges, yet nothing was forced: "
                f"{state.cancellations} {state.history}"
            )
    other = runs["cleo-other"]["metadata"].get("annotations") or {}
    assert not any(k.startswith("remedy.dev/cancel") for k in other), f"seed {seed}"

    for server in chaos.platform.redis[1:]:
        client = redis.Redis.from_url(server.url)
        assert list(client.scan_iter("remedy:lock:*")) == [], f"seed {seed}: a lock left"
