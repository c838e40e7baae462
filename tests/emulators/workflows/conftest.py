"""Fixtures for the workflow simulator's tests: an emulator, the agents, the simulator.

Everything talks over HTTPS to the Kubernetes API emulator, laid out as ``remedy up``
lays it out (workflows in ``argo``, CodeRuns in ``agent-platform``). The real agent
simulator plays the CodeRuns the workflow simulator creates, on a short schedule; the
workflow simulator steps after ``DELAY_S``. Tests wait on conditions with a deadline,
never on fixed sleeps. ``api``, ``custom`` and ``started`` come from
tests/emulators/conftest.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.agents import AgentSimulator, Plan
from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.workflows import WorkflowSimulator
from tests.emulators.workflows.support import AGENT_NS, ARGO_NS, DELAY_S

FAST = Plan(pending_seconds=0.05, run_seconds=0.1, ack_seconds=0.05)


@pytest.fixture
def kube(kube: KubeEmulator) -> KubeEmulator:
    """The shared emulator, with the namespaces ``remedy up`` lays the platform out in."""
    for namespace in (ARGO_NS, AGENT_NS):
        kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    return kube


@pytest.fixture
def agents(api: client.ApiClient) -> Iterator[AgentSimulator]:
    simulator = AgentSimulator(api, [AGENT_NS, ARGO_NS], plan=FAST).start()
    yield simulator
    simulator.stop()


@pytest.fixture
def simulate(
    api: client.ApiClient,
    agents: AgentSimulator,
    started: Callable[[WorkflowSimulator], WorkflowSimulator],
) -> Callable[..., WorkflowSimulator]:
    """Start a workflow simulator (``argo`` → ``agent-platform`` unless told otherwise)."""

    def start(**options: Any) -> WorkflowSimulator:
        options.setdefault("namespaces", [ARGO_NS])
        options.setdefault("coderun_namespace", AGENT_NS)
        options.setdefault("step_delay_s", DELAY_S)
        return started(WorkflowSimulator(api, **options))

    return start
