"""Chaos on the local platform: exactly-once in effect per push, under duplicates, faults
and crashes, with workflows moving on between events.

Seeded (``CHAOS_SEED`` to replay; the seed is printed and in every failure message).
Five tasks, four Rex pushes each (twenty), linked before → after and two to a second.
Every push is delivered under its first delivery id through the gateway — sometimes
twice at the same moment — and under a second delivery id, as a second hook would
(half through the gateway, half as GitHubSource's re-serialised CloudEvent straight to
the broker), at random times: a third of the second deliveries come long after, once
everything settled, with some redeliveries of first ids. Meanwhile the Kubernetes
emulator injects latency, 5xx on CodeRun patches and 409 storms on state writes, GitHub
answers some label writes with 5xx, agent-cancel is killed mid-step (SIGKILL) and
restarted, and one of the three Redis masters (the ledger's) goes down. Two Tess
feedback comments per task (each also sent twice) are mixed in. One task's Cleo never
acknowledges (the forced path). The workflow simulator plays Argo: a resumed workflow
runs Cleo on the new head and suspends at the ready-for-qa gate again.

Afterwards: no Cleo/Tess run of a task survives unless it works on the newest head (a
run started for it after the pushes survives the late deliveries); Rex's runs and
another task's run are untouched; every PR has remediation-in-progress and not
ready-for-qa; every workflow waits at a gate no later than ready-for-qa, was resumed
for the newest push, each push reset and resumed it at most once (counted from the
workflow's node messages and from the task's history), no Suspend node reached after a
push's resume was resumed for that push or one it contains, and nothing opened the
ready-for-qa gate (no Tess run); each task has exactly one Rex remediation run per
feedback and the iteration-2 label only; the late duplicates cost no GitHub request and
no write to the workflow; nothing is stuck — no lock key, no cancellation waiting.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import redis

from remedy.domain import workflows as wf
from remedy.domain.agents import parse_time
from remedy.local.broker.records import Outcome
from tests.chaos.harness import POLL_S, Harness, rex_runs
from tests.chaos.seeding import seed_remediation_task, sha
from tests.chaos.webhooks import comment_body, send_webhook
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

TASKS = [101, 102, 103, 104, 105]
PUSHES = 4
PUSHED_AT = int(time.time()) + 3600
"""Rex's pushes happen after every seeded run was created, two to a second."""
RESUMED = re.compile(r"^Resumed by: remedy \(remediation, epoch (\d+)\)$")
MARKER = "## 🔴 Required Changes"
TESS = "5DLabs-Tess[bot]"
IGNORING = 103
"""This task's Cleo never acknowledges: the reconciler must force it."""
WORKFLOW_AGENTS = {
    "remedy.dev/simulate-pending-seconds": "0",
    "remedy.dev/simulate-run-seconds": "0.5",
    "remedy.dev/simulate-ack-delay-seconds": "0.1",
}
"""How the Cleo runs the simulated workflows start behave (quick, acknowledging)."""
PUSH_INTAKE_TRIGGER = "push-intake-github-push"

Send = tuple[str, int, int, str, str]
"""(kind, task, n, delivery id, route): a push ("push") or a feedback comment ("comment")."""


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
        workflow_step_delay_s=1.0,
    )
    yield harness  # type: ignore[misc]
    harness.stop()


def pushed_at(n: int) -> int:
    """Pushes 1 and 2 share a second, 3 and 4 the next: linked pushes in one second."""
    return PUSHED_AT + (n + 1) // 2


def test_remediation_holds_under_chaos(chaos: Harness, tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1 << 30))
    print(f"chaos seed: {seed} (replay with CHAOS_SEED={seed})")
    rng = random.Random(seed)
    prs = {
        task: seed_remediation_task(
            chaos,
            task,
            ack_delay_s="never" if task == IGNORING else "0.1",
            workflow_agents=WORKFLOW_AGENTS,
        )
        for task in TASKS
    }
    chaos.coderun("cleo-other", task=999, agent="5DLabs-Cleo", phase="Running")

    pushes = [(task, n) for task in TASKS for n in range(1, PUSHES + 1)]
    firsts: list[Send] = [("push", t, n, f"chaos-{seed}-{t}-{n}", "gateway") for t, n in pushes]
    seconds: list[Send] = [
        ("push", t, n, f"chaos-{seed}-{t}-{n}-hook2", rng.choice(["gateway", "source"]))
        for t, n in pushes
    ]
    late = rng.sample(seconds, len(seconds) // 3)
    comments: list[Send] = [
        ("comment", t, PUSHES + k, f"chaos-{seed}-fb-{t}-{PUSHES + k}", "gateway")
        for t in TASKS
        for k in (1, 2)
    ]
    sends = firsts + [s for s in seconds if s not in late] + comments + comments
    rng.shuffle(sends)
    chaos.kube_fault(kind="latency", latency_ms=30, probability=0.2)
    chaos.kube_fault(
        kind="status", verb="patch", resource="coderuns", status=500, probability=0.1, count=6
    )
    chaos.kube_fault(
        kind="conflict", verb="update", resource="configmaps", probability=0.2, count=10
    )
    chaos.github_fault(status=502, method="POST", count=3)
    answers: list[tuple[Send, int]] = []
    lock = threading.Lock()

    def send(item: Send) -> None:
        kind, task, n, delivery, route = item
        if kind == "comment":
            body = comment_body(
                task=task, pr=prs[task], comment_id=task * 100 + n, author=TESS, body=MARKER
            )
            status = send_webhook(chaos, event="issue_comment", payload=body, delivery=delivery)
        else:
            deliver = chaos.push if route == "gateway" else chaos.push_via_source
            status = deliver(
                task=task,
                before=sha(task, n - 1),
                after=sha(task, n),
                delivery=delivery,
                pushed_at=pushed_at(n),
            )
        with lock:
            answers.append((item, status))

    concurrent_copies = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        for index, item in enumerate(sends):
            if index == len(sends) // 3:
                chaos.platform.redis[0].stop()  # the ledger's master
            if index == len(sends) // 2:
                chaos.kill("agent-cancel")
                threading.Timer(0.5, chaos.platform.restart, args=("agent-cancel",)).start()
            pool.submit(send, item)
            if rng.random() < 0.3:
                concurrent_copies += 1
                pool.submit(send, item)  # the same delivery at the same moment
            # webhooks arrive spread out, so workflows move on between some of them
            time.sleep(rng.uniform(0, 0.25))
    statuses = Counter(status for _, status in answers)
    assert set(statuses) <= {202, 502}, f"seed {seed}: gateway and broker answers {statuses}"
    # GitHub redelivers a delivery that got a 5xx; those are sent once more
    retries = [item for item, status in answers if status == 502]
    for item in retries:
        send(item)

    def settled(task: int) -> bool:
        state = chaos.remediation(task)
        if not (
            state is not None
            and state.epoch > 0
            and state.resumed_epoch == state.epoch
            and state.labels_epoch == state.epoch
            and state.all_stopped(state.epoch)
            and any(h.sha == sha(task, PUSHES) and h.epoch == state.epoch for h in state.heads)
        ):
            return False
        workflow = chaos.workflow(task)  # moved on after the resume, waiting at a gate
        return wf.epoch_of(workflow) == state.epoch and bool(wf.active_suspend_nodes(workflow))

    def describe() -> str:
        lines = []
        for task in TASKS:
            state = chaos.remediation(task)
            if state is None:
                lines.append(f"task {task}: no state")
                continue
            waiting = [f"{c.name}:{c.status}" for c in state.cancellations_for(state.epoch)]
            workflow = chaos.workflow(task)
            lines.append(
                f"task {task}: epoch {state.epoch} labels {state.labels_epoch} resumed "
                f"{state.resumed_epoch} kept {state.kept_resume} cancellations {waiting} "
                f"heads {[h.sha[-2:] for h in state.heads]} last {state.history[-3:]} "
                f"workflow {wf.stage(workflow)} epoch {wf.epoch_of(workflow)} "
                f"waiting {[n.stage for n in wf.active_suspend_nodes(workflow)]}"
            )
        return "\n".join(lines)

    eventually(
        lambda: all(settled(t) for t in TASKS),
        timeout=120,
        every=POLL_S,
        what=f"every task to settle (seed {seed})",
        describe=describe,
    )
    chaos.clear_kube_faults()
    github_during_storm = chaos.github_stats()

    # long after: a run started for the newest head, then the late second deliveries and
    # redeliveries of some first ones; they must cost nothing
    for task in TASKS:
        chaos.coderun(
            f"cleo-{task}-newest",
            task=task,
            agent="5DLabs-Cleo",
            phase="Running",
            head=sha(task, PUSHES),
        )
    versions = {t: chaos.workflow(t)["metadata"]["resourceVersion"] for t in TASKS}
    redeliveries = rng.sample(firsts, 6)
    chaos.reset_github_stats()
    for item in late + redeliveries:
        send(item)
    late_ids = {item[3] for item in late + redeliveries}
    chaos.platform.broker.wait_for(
        lambda records: (
            late_ids
            <= {
                r.event_id
                for r in records.deliveries(trigger=PUSH_INTAKE_TRIGGER)
                if r.outcome in (Outcome.REPLIED, Outcome.ACCEPTED)
            }
        ),
        timeout=60,
    )
    chaos.platform.broker.wait_idle(timeout=60)
    late_github = chaos.github_stats()
    assert late_github["total"] == 0, f"seed {seed}: late duplicates cost {late_github}"
    assert all(settled(t) for t in TASKS), f"seed {seed}: late duplicates moved a task"
    moved = {t for t in TASKS if chaos.workflow(t)["metadata"]["resourceVersion"] != versions[t]}
    assert moved == set(), f"seed {seed}: late duplicates wrote the workflows of {moved}"

    runs = chaos.coderuns()
    resumes_per_push: Counter[int] = Counter()
    for task in TASKS:
        newest = sha(task, PUSHES)
        state = chaos.remediation(task)
        assert state is not None
        survivors = {
            name: (run["metadata"].get("annotations") or {}).get("remedy.dev/head-sha")
            for name, run in runs.items()
            if run["spec"]["taskId"] == task
            and run["spec"]["githubApp"] != "5DLabs-Rex"
            and run.get("status", {}).get("phase") not in ("Succeeded", "Cancelled", "Failed")
        }
        assert f"cleo-{task}-newest" in survivors, f"seed {seed}: task {task}: {survivors}"
        stale = {name for name, head in survivors.items() if head != newest}
        assert stale == set(), f"seed {seed}: task {task}: obsolete runs survive: {stale}"
        testing = [
            name
            for name, run in runs.items()
            if run["spec"]["taskId"] == task
            and run["metadata"]["labels"].get("workflow-stage") == "testing"
        ]
        assert testing == [], f"seed {seed}: task {task}: the ready-for-qa gate opened"
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
        }, f"seed {seed}: task {task}: {chaos.labels(prs[task])} {state.history[-8:]}"
        assert state.resumed_epoch == state.epoch, f"seed {seed}: newest epoch's resume lost"

        workflow = chaos.workflow(task)
        assert wf.stage(workflow).value in ("waiting-pr-created", "waiting-ready-for-qa"), seed
        assert wf.resumed_heads(workflow)[-1] == newest, f"seed {seed}: task {task}"
        index_of = {h.epoch: int(h.sha[6:]) for h in state.heads}
        resumed = _remediation_resumes(workflow, index_of)
        per_push = Counter(n for n, _, _ in resumed)
        assert per_push and max(per_push.values()) == 1, f"seed {seed}: task {task}: {resumed}"
        assert per_push[PUSHES] == 1, f"seed {seed}: task {task}: newest push not resumed"
        resumes_per_push.update(per_push.values())
        for n, reached, _ in resumed:
            earlier = [m for m, _, done in resumed if done < reached and m >= n]
            assert not earlier, (
                f"seed {seed}: task {task}: a gate reached after the resume for push(es) "
                f"{earlier} was resumed for push {n}, which they contain"
            )
        in_history = Counter(
            index_of.get(e.epoch)
            for e in state.history
            if e.step == "workflow-resume" and e.outcome.endswith("→ waiting-pr-created, resumed")
        )
        assert max(in_history.values(), default=0) <= 1, f"seed {seed}: {task}: {in_history}"
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

    histories = [e.outcome for t in TASKS for e in chaos.remediation(t).history]  # type: ignore[union-attr]
    kept = sum(o.endswith("resume kept") for o in histories)
    dropped = sum("nothing owed" in o for o in histories)
    summary = {
        "seed": seed,
        "pushes": len(pushes),
        "deliveries": len(answers) + len(late) + len(redeliveries),
        "duplicates": {
            "same id at the same moment": concurrent_copies,
            "same id redelivered after a 5xx": len(retries),
            "same id long after": len(redeliveries),
            "second id via the gateway": sum(1 for s in seconds if s[4] == "gateway"),
            "second id via GitHubSource": sum(1 for s in seconds if s[4] == "source"),
            "second ids long after": len(late),
        },
        "pushes resumed n times": {
            "0": len(pushes) - sum(resumes_per_push.values()),
            **{str(k): v for k, v in sorted(resumes_per_push.items())},
        },
        "resumes kept for later": kept,
        "kept resumes dropped as no longer owed": dropped,
        "github requests during the storm": github_during_storm["total"],
        "github requests per push (storm, feedback included)": round(
            github_during_storm["total"] / len(pushes), 2
        ),
        "github requests for the late duplicates": late_github["total"],
    }
    (tmp_path / "chaos-summary.json").write_text(json.dumps(summary, indent=2))
    print(json.dumps(summary, indent=2))


def _remediation_resumes(
    workflow: dict[str, Any], index_of: dict[int, int]
) -> list[tuple[int, float, float]]:
    """(push index, when its node was reached, when it was resumed) for each Suspend node
    remedy resumed for a remediation."""
    found = []
    for node in workflow["status"]["nodes"].values():
        match = RESUMED.match(node.get("message", ""))
        if match is None:
            continue
        reached = parse_time(node.get("startedAt") or "")
        done = parse_time(node.get("finishedAt") or "")
        assert done is not None, node
        found.append(
            (
                index_of[int(match.group(1))],
                reached.timestamp() if reached else float("-inf"),
                done.timestamp(),
            )
        )
    return found
