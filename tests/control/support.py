"""Helpers for control-api's tests: tokens, a task mid-cancellation, reading the results."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudevents.http import CloudEvent, from_http
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import RemediationState
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.intake.conftest import RecordingSink
from tests.support.events import push_event, reply

TOKENS = {
    "5DLabs-Cleo": "cleo-token-0123456789abcdef",
    "5DLabs-Tess[bot]": "tess-token-0123456789abcdef",
    "5DLabs-Rex": "rex-token-0123456789abcdef",
    "operator:alice": "alice-token-0123456789abcdef",
}
TASK = 12
RUNS = [
    ("rex-12", "5DLabs-Rex", "Running"),
    ("cleo-12", "5DLabs-Cleo", "Running"),
    ("tess-12", "5DLabs-Tess", "Running"),
]
OLD = "1" * 40
NEW = "2" * 40
BRANCH = f"task-{TASK}-fix-login"


def auth(principal: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[principal]}"}


def ack_path(name: str, namespace: str = seed.AGENT_NS) -> str:
    return f"/v1/coderuns/{namespace}/{name}/cancellation/ack"


@dataclass(frozen=True)
class Cancelled:
    """A task whose push had its review runs asked to stop and its labels reset."""

    requested: CloudEvent
    cancelled: CloudEvent
    labelled: CloudEvent

    @property
    def epoch(self) -> int:
        return int(self.requested.get_data()["epoch"])

    def outcomes(self) -> dict[str, str]:
        return {o["coderun"]: o["action"] for o in self.cancelled.get_data()["outcomes"]}


def seed_task(
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    runs: list[tuple[str, str, str]],
    *,
    labels: dict[str, str] | None = None,
) -> None:
    """CodeRuns (name, agent, phase) of the task, its play workflow and its PR."""
    for name, agent, phase in runs:
        seed.coderun(custom, name, task=TASK, agent=agent, phase=phase, labels=labels)
    seed.play_workflow(custom, task=TASK, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", f"task-{TASK}"])


def remediate(chain: dict[str, Any], *, delivery: str = "d-1") -> Cancelled:
    """A push by Rex through push-intake, agent-cancel and label-update."""
    push = push_event(delivery=delivery, branch=BRANCH, before=OLD, after=NEW)
    requested = reply(chain["push-intake"], push)
    cancelled = reply(chain["agent-cancel"], requested)
    labelled = reply(chain["label-update"], requested)
    return Cancelled(requested, cancelled, labelled)


def state(api: client.ApiClient) -> tuple[RemediationState, str]:
    loaded, version = KubeRemediationStates(api, namespace=seed.STATE_NS).load(TASK)
    assert loaded is not None and version is not None
    return loaded, version


def coderun(custom: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    try:
        obj: Any = custom.get_namespaced_custom_object(
            *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(obj)


def sent(recorder: RecordingSink) -> list[CloudEvent]:
    with recorder.lock:
        requests = list(recorder.requests)
    return [from_http(headers, body) for headers, body in requests]


def workflow_stage(custom: client.CustomObjectsApi) -> str:
    obj = custom.get_namespaced_custom_object(
        *seed.WORKFLOW[:2], seed.ARGO_NS, seed.WORKFLOW[2], f"play-task-{TASK}"
    )
    return str(obj["metadata"]["labels"]["current-stage"])
