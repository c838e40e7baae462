"""An agent that acknowledges at once, while agent-cancel still holds the task's lock.

Covers: agent-cancel writes the cancellation request on the run before it saves the
task's first remediation state, both under the task's lock; an acknowledgement arriving
in between waits for that lock (no answer while it is held) and is then recorded
(200, the run deleted, the Cancellation ``gone``) instead of a 409 for a state that is
about to exist.
"""

from __future__ import annotations

import threading
from typing import Any

from kubernetes import client
from werkzeug.test import Client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.adapters.redis.redlock import Redlock
from remedy.domain.identifiers import task_lock_resource
from remedy.domain.remediation import Cancellation, Head, RemediationState
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.control import support

EPOCH = 1_700_000_000_001


def test_an_ack_during_agent_cancels_first_save_waits_and_is_recorded(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    redis_urls: list[str],
) -> None:
    support.seed_task(custom, github, support.RUNS)
    run = custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"annotations": {
            "remedy.dev/cancel-requested-at": "2025-01-01T00:00:00.000000Z",
            "remedy.dev/cancel-epoch": str(EPOCH),
        }}},
    )  # fmt: skip
    answers: list[Any] = []
    with Redlock.from_urls(redis_urls).hold(task_lock_resource(support.TASK)):
        acking = threading.Thread(
            target=lambda: answers.append(
                control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
            )
        )
        acking.start()
        acking.join(timeout=0.5)
        assert answers == [], "the ack answered while agent-cancel's step held the lock"
        state = RemediationState(task_id=support.TASK, repository=seed.REPO, epoch=EPOCH)
        state.heads.append(
            Head(sha=support.NEW, before=support.OLD, epoch=EPOCH, delivery="d-1", pushed_at="")
        )
        state.put_cancellation(
            Cancellation(
                namespace=seed.AGENT_NS,
                name="cleo-12",
                uid=run["metadata"]["uid"],
                agent="5DLabs-Cleo",
                epoch=EPOCH,
                for_head=support.NEW,
                requested_at="2025-01-01T00:00:00.000000Z",
                deadline="2025-01-01T00:00:30.000000Z",
                status="requested",
            )
        )
        KubeRemediationStates(api, namespace=seed.STATE_NS).save(state, resource_version=None)
    acking.join(timeout=10)
    assert [a.status_code for a in answers] == [200], [a.json for a in answers]
    recorded = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/cleo-12"]
    assert recorded.status == "gone"
    assert support.coderun(custom, "cleo-12") is None
