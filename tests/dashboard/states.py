"""Remediation states saved directly, for the pages that need no chain behind them.

The task list's columns, filters and pages, the errors and the keyboard walk only
read states, so their tests (on the ``control_only`` platform: control-api alone, its
broker a recording stand-in) save the states they show instead of pushing through the
chain (tests/support/platform.py does that for the tests that cancel).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.agents import format_time
from remedy.domain.remediation import (
    Cancellation,
    CancellationStatus,
    Event,
    Head,
    RemediationState,
)
from tests.chain import seed
from tests.support.platform import NEW, OLD, OPERATOR


def save_states(api: client.ApiClient, many: Iterable[RemediationState]) -> None:
    """Save remediation states directly."""
    store = KubeRemediationStates(api, namespace=seed.STATE_NS)
    for state in many:
        store.save(state, resource_version=None)


def a_state(
    task_id: int,
    repository: str = seed.REPO,
    *,
    epoch: int = 0,
    statuses: Iterable[CancellationStatus] = (),
) -> RemediationState:
    """A task's state as if remediated (``epoch`` > 0: one push), with cancellations in
    ``statuses``; deadlines 30 s from now."""
    now = datetime.now(UTC)
    at, deadline = format_time(now), format_time(now + timedelta(seconds=30))
    delivery = f"d-{task_id}"
    heads = [Head(sha=NEW, before=OLD, epoch=epoch, delivery=delivery, pushed_at=at)]
    runs = {
        f"{seed.AGENT_NS}/run-{task_id}-{i}": Cancellation(
            namespace=seed.AGENT_NS,
            name=f"run-{task_id}-{i}",
            uid=f"uid-{i}",
            agent="5DLabs-Cleo",
            epoch=epoch,
            for_head=NEW,
            requested_at=at,
            deadline=deadline,
            status=status,
            reason="seeded",
            requested_by=OPERATOR,
        )
        for i, status in enumerate(statuses)
    }
    history = [Event(at=at, epoch=epoch, delivery=delivery, step="agent-cancel", outcome="seeded")]
    return RemediationState(
        task_id=task_id,
        repository=repository,
        epoch=epoch,
        heads=heads if epoch else [],
        cancellations=runs,
        history=history if epoch else [],
    )
