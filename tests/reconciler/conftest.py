"""The reconciler on the emulated platform: the chain's fixtures, an injected clock, a sink.

The Kubernetes and GitHub emulators, real Redis masters and the chain's functions come
from ``tests/chain``; the reconciler itself is built by ``wiring.reconciler`` from the
same environment, with a clock the test moves (no sleeping past a grace period or a
saga deadline) and an in-memory sink that records every event it sends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cloudevents.http import CloudEvent
from kubernetes import client

from remedy import wiring
from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.agents import parse_time
from remedy.domain.remediation import RemediationState
from remedy.handlers.common.stopping import stopped_id
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.ports import SinkError
from tests.chain import conftest as chain
from tests.chain import seed
from tests.support.events import push_event, reply

# the chain tests' fixtures (emulators, Redis-backed environment, function apps)
kube = chain.kube
api = chain.api
custom = chain.custom
github = chain.github
platform_env = chain.platform_env
apps = chain.apps

OLD = "1" * 40
NEW = "2" * 40
BRANCH = "task-12-fix-login"


class Clock:
    """A clock the test moves; starts at the real now so the steps' records line up."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class MemorySink:
    """Records what the reconciler sends; ``failing`` makes it refuse like a down broker."""

    events: list[CloudEvent] = field(default_factory=list)
    failing: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, event: CloudEvent) -> None:
        if self.failing:
            raise SinkError("the broker answered 503", status=503)
        with self.lock:
            self.events.append(event)

    def of_type(self, suffix: str) -> list[CloudEvent]:
        return [e for e in self.events if str(e["type"]).endswith(suffix)]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def memory_sink() -> MemorySink:
    return MemorySink()


@pytest.fixture
def make_reconciler(
    platform_env: dict[str, str], clock: Clock, memory_sink: MemorySink
) -> Callable[[], Reconciler]:
    return lambda: wiring.reconciler(clock=clock, sink=memory_sink)


@pytest.fixture
def reconciler(make_reconciler: Callable[[], Reconciler]) -> Reconciler:
    return make_reconciler()


@pytest.fixture
def states(api: client.ApiClient) -> KubeRemediationStates:
    return KubeRemediationStates(api, namespace=seed.STATE_NS)


def state_of(states: KubeRemediationStates, task: int = 12) -> RemediationState:
    state, _ = states.load(task)
    assert state is not None
    return state


def push(*, delivery: str, task: int = 12, before: str = OLD, after: str = NEW) -> CloudEvent:
    """Rex's push to the task's branch; pushed "later" so every seeded run predates it."""
    return push_event(
        delivery=delivery, branch=f"task-{task}-fix-login", before=before, after=after
    )


def coderun(custom: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    try:
        return dict(
            custom.get_namespaced_custom_object(
                *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name
            )
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise


def workflow(custom: client.CustomObjectsApi, task: int = 12) -> dict[str, Any]:
    return dict(
        custom.get_namespaced_custom_object(
            *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], f"play-task-{task}"
        )
    )


def stage(custom: client.CustomObjectsApi, task: int = 12) -> str:
    return str(workflow(custom, task)["metadata"]["labels"]["current-stage"])


def drive(
    apps: dict[str, Any], delivery: str, *, task: int = 12
) -> tuple[CloudEvent, CloudEvent, CloudEvent]:
    """push-intake → agent-cancel → label-update; (requested, cancelled, labelled)."""
    requested = reply(apps["push-intake"], push(delivery=delivery, task=task))
    cancelled = reply(apps["agent-cancel"], requested)
    labelled = reply(apps["label-update"], requested)
    return requested, cancelled, labelled


def deadline_of(states: KubeRemediationStates, key: str, task: int = 12) -> datetime:
    moment = parse_time(state_of(states, task).cancellations[key].deadline)
    assert moment is not None
    return moment


def stopped_id_of(states: KubeRemediationStates, delivery: str, task: int = 12) -> str:
    """The id ``agents.stopped`` has for the task's current epoch's set of cancelled runs."""
    state = state_of(states, task)
    runs = [f"{c.key}/{c.uid}" for c in state.cancellations_for(state.epoch)]
    return stopped_id(delivery, runs)
