"""Reconcilers ticking at the same time (and over and over) act once between them.

Covers: two reconcilers, each ticking three times from its own thread over four tasks
— three with a Cleo run whose grace expired, one with a kept resume whose workflow has
reached its suspend point — force-delete each run exactly once (one DELETE per run in
the API server's counts, each run in at most one reconciler's report), announce each
task's ``agents.stopped`` exactly once, resume the waiting workflow exactly once (one
workflow update, one ``workflow.resumed``), and leave every cancellation ``forced``;
the announcements then resume the three workflows.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta
from typing import Any

from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.handlers.reconciler.reconciler import Reconciler, TickReport
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.reconciler.conftest import (
    Clock,
    MemorySink,
    deadline_of,
    drive,
    stage,
    state_of,
    stopped_id_of,
)
from tests.support.events import acked, reply

FORCED_TASKS = (12, 13, 14)
KEPT_TASK = 15
TICKS = 3


def test_concurrent_reconcilers_delete_announce_and_resume_once(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    make_reconciler: Any,
) -> None:
    for task in FORCED_TASKS:
        seed.coderun(custom, f"cleo-{task}", task=task, agent="5DLabs-Cleo", phase="Running")
        seed.play_workflow(custom, task=task, stage="waiting-ready-for-qa")
        _, _, labelled = drive(apps, f"d-{task}", task=task)
        acked(apps["workflow-resume"], labelled)
    seed.play_workflow(custom, task=KEPT_TASK, stage="waiting-ready-for-qa", suspended=False)
    _, _, labelled = drive(apps, f"d-{KEPT_TASK}", task=KEPT_TASK)
    acked(apps["workflow-resume"], labelled)
    assert state_of(states, KEPT_TASK).kept_resume is not None
    _suspend(custom, KEPT_TASK)
    clock.now = max(
        deadline_of(states, f"{seed.AGENT_NS}/cleo-{task}", task) for task in FORCED_TASKS
    ) + timedelta(seconds=1)

    reconcilers: list[Reconciler] = [make_reconciler(), make_reconciler()]
    reports: list[list[TickReport]] = [[], []]
    start = threading.Barrier(len(reconcilers))
    kube.stats.reset()

    def run(index: int) -> None:
        start.wait(timeout=10)
        for _ in range(TICKS):
            reports[index].append(reconcilers[index].tick())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(reconcilers))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()

    counts = kube.stats.snapshot()
    assert counts.get("delete coderuns") == len(FORCED_TASKS)
    assert counts.get("update workflows") == 1
    forced_by = Counter(
        key for ticks in reports for tick in ticks for task in tick.tasks for key in task.forced
    )
    assert set(forced_by) == {f"{seed.AGENT_NS}/cleo-{task}" for task in FORCED_TASKS}
    assert set(forced_by.values()) == {1}
    assert not [t.error for ticks in reports for tick in ticks for t in tick.tasks if t.error]

    sent = Counter((e["type"], e["id"]) for e in memory_sink.events)
    expected = {
        ("dev.remedy.agents.stopped", stopped_id_of(states, f"d-{task}", task))
        for task in FORCED_TASKS
    }
    expected.add(("dev.remedy.workflow.resumed", f"d-{KEPT_TASK}:workflow.resumed"))
    assert set(sent) == expected
    assert set(sent.values()) == {1}
    for task in FORCED_TASKS:
        (cancellation,) = state_of(states, task).cancellations.values()
        assert cancellation.status == "forced"
    assert stage(custom, KEPT_TASK) == "waiting-pr-created"

    for event in memory_sink.of_type("agents.stopped"):
        reply(apps["workflow-resume"], event)
    assert {stage(custom, task) for task in FORCED_TASKS} == {"waiting-pr-created"}


def _suspend(custom: client.CustomObjectsApi, task: int) -> None:
    """The task's workflow reaches its suspend point at waiting-ready-for-qa."""
    current = dict(
        custom.get_namespaced_custom_object(
            *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], f"play-task-{task}"
        )
    )
    current["status"]["nodes"]["wait"] = {
        "id": "wait",
        "type": "Suspend",
        "phase": "Running",
        "displayName": "waiting-ready-for-qa",
        "inputs": {"parameters": [{"name": "stage-name", "value": "waiting-ready-for-qa"}]},
    }
    custom.replace_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], f"play-task-{task}", current
    )
