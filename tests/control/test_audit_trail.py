"""The audit trail of a remediation: the Kubernetes Events each step writes, and only once.

Covers, on the emulated platform with the functions as functions-framework serves them:
a push by Rex leaves CancellationRequested on Cleo's running run and
CancellationDeletedBeforeStart on Tess's pending one (from agent-cancel), LabelsReset on
the task's state ConfigMap (label-update), CancellationAcknowledged on Cleo's run when
she acknowledges (control-api) and WorkflowResumed on the play workflow
(workflow-resume) — each about the very object (its uid), each message naming the task,
the short head, the epoch, who asked and why, and each matching the audit catalogue
(reason, kind, namespace, writer, action, type); the task's history keeps the
cancellation's reason and requester after the run is gone. Every duplicate — the push
redelivered (same and another delivery id), each step's input again, the
acknowledgement again, ``agents.stopped`` again — writes no second Event. An
acknowledgement of a run already gone is recorded on the state ConfigMap. A person's
request through control-api names them and their reason; asking again in the same
epoch asks no run twice, and writes no Event. An apiserver refusing every
Event changes nothing else: the remediation completes.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client
from werkzeug.test import Client

from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.control import support
from tests.intake.conftest import RecordingSink
from tests.support import audit
from tests.support.events import acked, post, push_event, reply

RUNS = [
    ("rex-12", "5DLabs-Rex", "Running"),
    ("cleo-12", "5DLabs-Cleo", "Running"),
    ("tess-12", "5DLabs-Tess", "Pending"),
]
STATE = "task-12-remediation-state"
PLAY = "play-task-12"


def uid_of(api: client.ApiClient, kind: str, name: str) -> str:
    if kind == "ConfigMap":
        return str(
            client.CoreV1Api(api).read_namespaced_config_map(name, seed.STATE_NS).metadata.uid
        )
    group, version, plural = seed.WORKFLOW if kind == "Workflow" else seed.CODERUN
    namespace = seed.ARGO_NS if kind == "Workflow" else seed.AGENT_NS
    obj: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        group, version, namespace, plural, name
    )
    return str(obj["metadata"]["uid"])


def remediation(
    control: Client, chain: dict[str, Any], recorder: RecordingSink
) -> tuple[support.Cancelled, Any]:
    """Rex's push through the chain, Cleo's acknowledgement, and the resume it allows."""
    done = support.remediate(chain)
    acked(chain["workflow-resume"], done.labelled)  # Cleo still running: no resume yet
    ack = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert ack.status_code == 200, ack.json
    [stopped] = support.sent(recorder)
    reply(chain["workflow-resume"], stopped)
    return done, stopped


def test_a_remediation_leaves_its_audit_trail(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, RUNS)
    uids = {name: uid_of(api, "CodeRun", name) for name in ("cleo-12", "tess-12")}
    uids[PLAY] = uid_of(api, "Workflow", PLAY)

    done, _ = remediation(control, chain, recorder)

    seen = audit.catalogued(api)
    assert sorted(audit.summary(seen)) == sorted(
        [
            ("CancellationRequested", "CodeRun", "cleo-12", "agent-cancel"),
            ("CancellationDeletedBeforeStart", "CodeRun", "tess-12", "agent-cancel"),
            ("LabelsReset", "ConfigMap", STATE, "label-update"),
            ("CancellationAcknowledged", "CodeRun", "cleo-12", "control-api"),
            ("WorkflowResumed", "Workflow", PLAY, "workflow-resume"),
        ]
    )
    uids[STATE] = uid_of(api, "ConfigMap", STATE)
    assert all(event.uid == uids[event.object] for event in seen), "about the very object"
    epoch = done.epoch
    prefix = f"Task 12, head {support.NEW[:12]}, epoch {epoch}: "
    push = f"remediation push {support.NEW[:12]} by 5DLabs-Rex"
    notes = {(e.reason, e.object): e.note for e in seen}
    assert notes["CancellationRequested", "cleo-12"] == (
        f"{prefix}asked 5DLabs-Cleo's run to stop and acknowledge within 30s. "
        f"Requested by remedy/agent-cancel: {push}."
    )
    assert notes["CancellationDeletedBeforeStart", "tess-12"] == (
        f"{prefix}deleted 5DLabs-Tess's run before it started. "
        f"Requested by remedy/agent-cancel: {push}."
    )
    assert notes["CancellationAcknowledged", "cleo-12"] == (
        f"{prefix}5DLabs-Cleo's run agent-platform/cleo-12: acknowledged by 5DLabs-Cleo; "
        f"deleted, confirmed gone. Requested by remedy/agent-cancel: {push}."
    )
    pr = done.labelled.get_data()["pr_number"]
    assert notes["LabelsReset", STATE] == (
        f"{prefix}PR #{pr}: -['ready-for-qa'] +['remediation-in-progress']. "
        f"Requested by 5DLabs-Rex: remediation push {support.NEW[:12]} to {support.BRANCH}."
    )
    assert notes["WorkflowResumed", PLAY].startswith(
        f"{prefix}{PLAY}: waiting-ready-for-qa → waiting-pr-created, resumed. "
        "Requested by remedy/workflow-resume: remediation (delivery "
    )
    assert [e.type for e in seen] == ["Normal"] * 5
    # the run is gone; the history still says why it was cancelled, and by whom
    assert support.coderun(custom, "cleo-12") is None
    cleo = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/cleo-12"]
    assert (cleo.reason, cleo.requested_by) == (push, "remedy/agent-cancel")


def test_duplicate_deliveries_write_no_second_event(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, RUNS)
    done, stopped = remediation(control, chain, recorder)
    before = audit.events(api)
    assert len(before) == 5

    for delivery in ("d-1", "d-1-via-github-source"):
        again = push_event(
            delivery=delivery, branch=support.BRANCH, before=support.OLD, after=support.NEW
        )
        assert reply(chain["push-intake"], again)["id"] == done.requested["id"]
    assert reply(chain["agent-cancel"], done.requested).get_data() == done.cancelled.get_data()
    assert reply(chain["label-update"], done.requested).get_data() == done.labelled.get_data()
    for step in (done.cancelled, done.labelled):
        post(chain["workflow-resume"], step)
    reply(chain["workflow-resume"], stopped)
    repeat = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert repeat.json["status"] == "already-acknowledged"

    assert audit.events(api) == before


def test_an_ack_of_a_run_already_gone_is_recorded_on_the_state_configmap(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
) -> None:
    support.seed_task(custom, github, [("cleo-12", "5DLabs-Cleo", "Running")])
    support.remediate(chain)
    custom.delete_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12"
    )

    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json

    [acknowledged] = [e for e in audit.catalogued(api) if e.reason == "CancellationAcknowledged"]
    assert (acknowledged.kind, acknowledged.object) == ("ConfigMap", STATE)
    assert acknowledged.uid == uid_of(api, "ConfigMap", STATE)
    assert "acknowledged by 5DLabs-Cleo; it was already gone" in acknowledged.note


def test_a_persons_request_names_them_and_their_reason(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, [("cleo-12", "5DLabs-Cleo", "Succeeded")])
    support.remediate(chain)
    seed.coderun(custom, "tess-12-b", task=support.TASK, agent="5DLabs-Tess", phase="Running")
    response = control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        json={"reason": "the spec changed"},
        headers=support.auth("operator:alice"),
    )
    assert response.status_code == 202, response.json
    [event] = support.sent(recorder)
    acked(chain["agent-cancel"], event)

    [asked] = [e for e in audit.catalogued(api) if e.object == "tess-12-b"]
    assert asked.reason == "CancellationRequested"
    assert asked.note.endswith("Requested by operator:alice: the spec changed.")

    before = audit.events(api)
    again = control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        json={"reason": "really, stop"},
        headers={**support.auth("operator:alice"), "Idempotency-Key": "second"},
    )
    assert again.status_code == 202, again.json
    acked(chain["agent-cancel"], support.sent(recorder)[-1])
    assert audit.events(api) == before, "a run already asked in this epoch is not asked again"


def test_an_apiserver_refusing_every_event_changes_nothing_else(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
    recorder: RecordingSink,
    kube: KubeEmulator,
) -> None:
    support.seed_task(custom, github, RUNS)
    kube.faults.add("status", verb="create", resource="events", status=500)

    remediation(control, chain, recorder)

    assert support.workflow_stage(custom) == "waiting-pr-created"
    assert support.state(api)[0].all_stopped(support.state(api)[0].epoch)
    assert audit.events(api) == []
