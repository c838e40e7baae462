"""Fixtures for the agent simulator's tests: a simulator on a short schedule.

The simulator runs in-process against the Kubernetes API emulator over HTTPS (``kube``,
``api`` and ``started`` come from tests/emulators/conftest.py), on a schedule short
enough that runs finish in a fraction of a second; tests wait on conditions with a
deadline, never on fixed sleeps, and assert on the CodeRuns' states and the emulator's
event log rather than on timing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.agents import AgentSimulator, Plan

FAST = Plan(pending_seconds=0.05, run_seconds=0.1, ack_seconds=0.05)


@pytest.fixture
def simulate(
    api: client.ApiClient, started: Callable[[AgentSimulator], AgentSimulator]
) -> Callable[..., AgentSimulator]:
    """Start an agent simulator (on the ``FAST`` plan unless told otherwise)."""

    def start(**options: Any) -> AgentSimulator:
        options.setdefault("plan", FAST)
        return started(AgentSimulator(api, **options))

    return start
