"""The audit trail as an operator reads it: real kubectl against the emulated platform.

Covers: after Rex's push and Cleo's acknowledgement (her run held by a finalizer, so
it is still there to describe), ``kubectl describe coderun cleo-12 -n agent-platform``
lists, in its Events section, CancellationRequested and CancellationAcknowledged from
``remedy`` with their messages (task, head, epoch, who asked, why); once the run is
gone and the reconciler confirmed it, ``kubectl get events -n argo`` shows
WorkflowResumed on ``workflow/play-task-12``, and ``kubectl get events -n
agent-platform`` the whole cancellation, Tess's deletion before she started included.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cloudevents.http import CloudEvent
from kubernetes import client
from werkzeug.test import Client

from remedy import wiring
from tests.chain import seed
from tests.control import support
from tests.emulators.kube.support import Kubectl
from tests.support.events import reply


class Sink:
    def __init__(self) -> None:
        self.events: list[CloudEvent] = []

    def send(self, event: CloudEvent) -> None:
        self.events.append(event)


def test_kubectl_describe_and_get_events_show_the_audit_trail(
    control: Client,
    chain: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: Any,
    control_env: dict[str, str],
    tmp_path: Path,
) -> None:
    kubectl = Kubectl(Path(control_env["KUBECONFIG"]), tmp_path / "kubectl-cache")
    support.seed_task(
        custom, github, [("cleo-12", "5DLabs-Cleo", "Running"), ("tess-12", "5DLabs-Tess", "")]
    )
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": ["agents.platform/cleanup"]}},
    )  # fmt: skip
    done = support.remediate(chain)
    ack = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert ack.json["cancellation"]["status"] == "acknowledged", ack.json

    described = kubectl("describe", "coderun", "cleo-12", "-n", seed.AGENT_NS).stdout
    events = described.split("\nEvents:")[1]
    head = f"Task 12, head {support.NEW[:12]}, epoch {done.epoch}"
    push = f"Requested by remedy/agent-cancel: remediation push {support.NEW[:12]} by 5DLabs-Rex."
    requested = _row(events, "CancellationRequested")
    assert requested.split()[:2] == ["Normal", "CancellationRequested"]
    assert requested.split()[3] == "remedy"  # From: the reporting controller
    assert f"{head}: asked 5DLabs-Cleo's run to stop and acknowledge within 30s. {push}" in (
        requested
    )
    acknowledged = _row(events, "CancellationAcknowledged")
    assert acknowledged.split()[3] == "remedy"
    assert (
        f"{head}: 5DLabs-Cleo's run agent-platform/cleo-12: acknowledged by 5DLabs-Cleo; "
        f"deleted, deletion pending. {push}"
    ) in acknowledged

    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": None}},
    )  # fmt: skip
    sink = Sink()
    wiring.reconciler(sink=sink).tick()
    (stopped,) = sink.events
    reply(chain["workflow-resume"], stopped)

    argo = kubectl("get", "events", "-n", seed.ARGO_NS).stdout
    resumed = _row(argo, "WorkflowResumed")
    assert "workflow/play-task-12" in resumed
    assert f"{head}: play-task-12: waiting-ready-for-qa → waiting-pr-created, resumed" in resumed
    runs = kubectl("get", "events", "-n", seed.AGENT_NS, "--sort-by=.eventTime").stdout
    assert [line.split()[2] for line in runs.splitlines()[1:]] == [
        "CancellationRequested",
        "CancellationDeletedBeforeStart",
        "CancellationAcknowledged",
        "CancellationConfirmedGone",
    ]


def _row(table: str, reason: str) -> str:
    (row,) = [line for line in table.splitlines() if f" {reason} " in line]
    return row
