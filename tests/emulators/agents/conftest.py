"""Fixtures for the agent simulator's tests: an emulator, a client, a simulator.

The simulator runs in-process against the Kubernetes API emulator over HTTPS, with a
short schedule so runs finish in a fraction of a second; tests wait on conditions
with a deadline, never on fixed sleeps, and assert on the CodeRuns' states and the
emulator's event log rather than on timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.agents import AgentSimulator, Plan
from remedy.local.emulators.kube import KubeEmulator

FAST = Plan(pending_seconds=0.05, run_seconds=0.1, ack_seconds=0.05)


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emulator:
        yield emulator


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[client.ApiClient]:
    api_client = kube.api_client()
    yield api_client
    api_client.close()


@pytest.fixture
def simulate(api: client.ApiClient) -> Iterator[Callable[..., AgentSimulator]]:
    started: list[AgentSimulator] = []

    def start(**options: Any) -> AgentSimulator:
        options.setdefault("plan", FAST)
        simulator = AgentSimulator(api, **options).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()
