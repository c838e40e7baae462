"""The local platform scaled to zero: every function behind an activator, and what wakes them.

:class:`Fleet` takes a running harness (``remedy up`` in-process), stops each of its
functions and puts an :class:`~tests.benchmarks.activator.Activator` on the function's
port, so the broker, the agent simulator and the benchmark reach the function exactly
as before, and the function's process is started on demand with the command and
environment ``remedy up`` gave it. Each activator can instead start the empty function
(``floor/empty.py``) standing in for it, routed by the same Triggers.

:class:`Triggers` sends the real events that reach each function on the platform: a
signed Rex push through webhook-gateway for the chain's functions (a fresh task each
time: PR, suspended workflow, Rex, Cleo and Tess runs), a signed Tess comment asking
for changes for feedback-intake, the PingSource's tick for the reconciler. Each returns
a wait for everything it set off to have finished.
"""

from __future__ import annotations

import itertools
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from remedy.local import functions
from remedy.local.http_server import ServedApp
from remedy.local.pinger import SOURCE as PING_SOURCE
from tests.benchmarks.activator import HOST, Activator, sink
from tests.benchmarks.effects import ObjectWatch
from tests.chaos.harness import Harness
from tests.chaos.seeding import ARGO_NS, WORKFLOW, seed_remediation_task, sha
from tests.chaos.webhooks import comment_body, send_webhook

EMPTY = Path(__file__).parent / "floor" / "empty.py"
PUSHED_AT = int(time.time()) + 3600
"""Rex's pushes come after every seeded run was created (remedy orders by push time)."""
TESS = "5DLabs-Tess[bot]"
MARKER = "## QA review\n\n### 🔴 Required Changes\n\n- the login form loses its state\n"
SETTLE_TIMEOUT_S = 60.0


def empty_command(port: int) -> list[str]:
    """functions-framework serving the empty function, as remedy's are served."""
    return [
        sys.executable, "-m", "functions_framework",
        "--source", str(EMPTY), "--target", "handle",
        "--signature-type", "http", "--host", HOST, "--port", str(port),
    ]  # fmt: skip


def _real_command(name: str) -> Callable[[int], list[str]]:
    return lambda port: functions.argv(name, port=port, host=HOST)


@dataclass
class Fleet:
    harness: Harness
    activators: dict[str, Activator]
    sink: ServedApp
    """Where empty functions measured on their own send their events (takes them all)."""
    workflows: ObjectWatch

    @classmethod
    def over(cls, harness: Harness) -> Fleet:
        platform = harness.platform
        activators = {}
        for name, port in platform.ports.items():
            harness.kill(name)
            activators[name] = Activator(
                name,
                platform.supervisor,
                command=_real_command(name),
                env=platform.function_envs[name],
                port=port,
            ).serve()
        return cls(harness, activators, sink(), ObjectWatch(harness, WORKFLOW, ARGO_NS))

    @property
    def broker_url(self) -> str:
        return str(self.harness.state["broker_url"])

    def use_real(self) -> None:
        """Every activator starts remedy's function (each must be scaled to zero)."""
        for name, activator in self.activators.items():
            activator.command = _real_command(name)
            activator.env = self.harness.platform.function_envs[name]

    def use_empty(self) -> None:
        """Every activator starts the empty function in its place, on the real routes."""
        ack = self.activators["control-api"].url
        for name, activator in self.activators.items():
            activator.command = empty_command
            activator.env = {**self.empty_env(name, sink=self.broker_url), "FLOOR_ACK_URL": ack}

    def empty_env(self, name: str, *, sink: str) -> dict[str, str]:
        return {**self.harness.platform.function_envs[name], "K_SINK": sink}

    def scale_all_to_zero(self) -> None:
        for activator in self.activators.values():
            activator.scale_to_zero()

    def settle(self) -> None:
        """Wait until the broker has nothing in flight."""
        self.harness.platform.broker.wait_idle(timeout=SETTLE_TIMEOUT_S)  # type: ignore[union-attr]

    def close(self) -> None:
        self.workflows.stop()
        for activator in self.activators.values():
            activator.close()
        self.sink.stop()


@dataclass
class Triggers:
    fleet: Fleet
    _tasks: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def push(self, *, seed: bool = True) -> Push:
        """A Rex push on a fresh task (seeded unless empty functions will take it)."""
        harness, task = self.fleet.harness, next(self._tasks)
        if seed:
            seed_remediation_task(harness, task)
        push = Push(self.fleet, task, f"cold-{task}-{uuid.uuid4().hex[:8]}", time.monotonic())
        status = harness.push(
            task=task,
            before=sha(task, 0),
            after=sha(task, 1),
            delivery=push.delivery,
            pushed_at=PUSHED_AT,
        )
        if status != 202:
            raise RuntimeError(f"webhook-gateway answered {status} to task {task}'s push")
        return push

    def comment(self) -> Callable[[], None]:
        """Tess asks for changes on a fresh task's PR (feedback-intake starts a Rex run)."""
        harness, task = self.fleet.harness, next(self._tasks)
        pr = harness.seed_task(task)
        payload = comment_body(task=task, pr=pr, comment_id=task, author=TESS, body=MARKER)
        status = send_webhook(harness, event="issue_comment", payload=payload, delivery=f"c{task}")
        if status != 202:
            raise RuntimeError(f"webhook-gateway answered {status} to task {task}'s comment")
        return self.fleet.settle

    def ping(self) -> Callable[[], None]:
        """The PingSource's tick, into the broker (the reconciler's Trigger routes it)."""
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "dev.knative.sources.ping",
            "ce-source": PING_SOURCE,
            "ce-id": str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        body = b'{"reason": "periodic reconcile"}'
        requests.post(self.fleet.broker_url, data=body, headers=headers, timeout=30)
        return self.fleet.settle

    def waking(self, function: str) -> Callable[[], Callable[[], object]]:
        """What reaches ``function`` on the platform."""
        if function == "feedback-intake":
            return self.comment
        if function == "reconciler":
            return self.ping
        return self.push


@dataclass
class Push:
    """A push sent; calling it waits for its workflow's resume and the broker to settle."""

    fleet: Fleet
    task: int
    delivery: str
    started: float
    """time.monotonic() before the webhook's POST."""

    def __call__(self) -> float:
        """time.monotonic() at which the watch saw the workflow resumed."""
        name, watch = f"play-task-{self.task}", self.fleet.workflows
        if not watch.wait(lambda w: resumed(w.objects.get(name)), timeout=SETTLE_TIMEOUT_S):
            raise RuntimeError(f"task {self.task}'s workflow was not resumed")
        at = watch.changed_at[name]
        self.fleet.settle()
        return at


def resumed(workflow: dict[str, Any] | None) -> bool:
    """Moved back to waiting-pr-created with its suspend node Succeeded."""
    if workflow is None:
        return False
    node = workflow.get("status", {}).get("nodes", {}).get("wait-0", {})
    stage = workflow["metadata"]["labels"].get("current-stage")
    return bool(stage == "waiting-pr-created" and node.get("phase") == "Succeeded")
