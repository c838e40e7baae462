"""The audit trail's Kubernetes adapter against the emulator, with the official client.

Covers: an Event (events.k8s.io/v1) carries its object (apiVersion, kind, namespace,
name, uid), ``reportingController: remedy``, the function and pod as
``reportingInstance``, the action, reason, note and type, and an ``eventTime`` with six
fractional digits even on a whole second (which the client's own serialisation would
drop, and the apiserver refuse); core v1 readers (kubectl's ``involvedObject`` field
selector) find it; each Event goes in its object's namespace, under a name
``<object>.<hex nanoseconds>`` that is new for every Event and fits the 253-character
limit; the state ConfigMap's reference carries the uid its last load or save saw.
Best-effort: a 500 never raises and is logged at WARNING once (then DEBUG); an outage
(5xx, a timeout) pauses writing, so the Events meanwhile cost no request, until the
pause ends and the next one is written (logged at INFO); a slow apiserver costs one
short timeout; a refusal (403) is no outage: the next Event is written.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.adapters.kube.events import KubeAuditTrail, reporting_instance
from remedy.domain import audit
from remedy.domain.audit import ObjectRef
from remedy.domain.remediation import RemediationState
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed

WHOLE_SECOND = datetime(2026, 12, 3, 9, 0, 5, tzinfo=UTC)


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emulator:
        yield emulator


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[client.ApiClient]:
    api_client = kube.api_client()
    seed.namespaces(client.CoreV1Api(api_client))
    yield api_client
    api_client.close()


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def trail(api: client.ApiClient, **options: Any) -> KubeAuditTrail:
    return KubeAuditTrail(api, instance="agent-cancel/agent-cancel-00001-pod", **options)


def stored(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    response: Any = client.EventsV1Api(api).list_namespaced_event(namespace, _preload_content=False)
    items: list[dict[str, Any]] = json.loads(response.data)["items"]
    return items


def creates(kube: KubeEmulator) -> int:
    return int(kube.stats.snapshot().get("create events", 0))


def test_an_event_names_its_object_reporter_and_time(api: client.ApiClient) -> None:
    run = seed.coderun(
        client.CustomObjectsApi(api), "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running"
    )
    regarding = audit.coderun(seed.AGENT_NS, "cleo-12", run["metadata"]["uid"])
    note = "Task 12, head 222222222222, epoch 7: asked. Requested by remedy/agent-cancel: a push."

    trail(api, now=lambda: WHOLE_SECOND).record(
        regarding, reason="CancellationRequested", action="RequestCancellation", note=note
    )

    (event,) = stored(api, seed.AGENT_NS)
    assert re.fullmatch(r"cleo-12\.[0-9a-f]{16}", event["metadata"]["name"])
    assert event["metadata"]["namespace"] == seed.AGENT_NS
    assert event["eventTime"] == "2026-12-03T09:00:05.000000Z"
    assert event["regarding"] == {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "namespace": seed.AGENT_NS,
        "name": "cleo-12",
        "uid": run["metadata"]["uid"],
    }
    assert event["reportingController"] == "remedy"
    assert event["reportingInstance"] == "agent-cancel/agent-cancel-00001-pod"
    assert (event["action"], event["reason"], event["type"]) == (
        "RequestCancellation",
        "CancellationRequested",
        "Normal",
    )
    assert event["note"] == note
    # what kubectl describe asks for: the core v1 shape, by involvedObject
    core = client.CoreV1Api(api).list_namespaced_event(
        seed.AGENT_NS, field_selector=f"involvedObject.uid={run['metadata']['uid']}"
    )
    assert [e.message for e in core.items] == [note]
    assert core.items[0].reporting_component == "remedy"


def test_each_event_goes_in_its_objects_namespace_under_a_new_name(api: client.ApiClient) -> None:
    writer = trail(api)
    long_name = "a" * 200 + "-" + "b" * 52  # 253 characters, the longest name allowed
    refs = [
        audit.coderun(seed.AGENT_NS, "tess-12", "u-1"),
        audit.coderun(seed.AGENT_NS, "tess-12", "u-1"),
        audit.workflow({"metadata": {"name": "play-task-12", "namespace": seed.ARGO_NS}}),
        ObjectRef("v1", "ConfigMap", seed.STATE_NS, "task-12-remediation-state", "u-3"),
        ObjectRef("v1", "ConfigMap", seed.STATE_NS, long_name),
    ]
    for ref in refs:
        writer.record(ref, reason="LabelsReset", action="Relabel", note="n")

    assert writer.written == len(refs)
    runs = stored(api, seed.AGENT_NS)
    assert len({e["metadata"]["name"] for e in runs}) == 2, "one name per Event"
    (resumed,) = stored(api, seed.ARGO_NS)
    assert resumed["regarding"]["apiVersion"] == "argoproj.io/v1alpha1"
    assert resumed["regarding"]["kind"] == "Workflow"
    names = sorted(e["metadata"]["name"] for e in stored(api, seed.STATE_NS))
    assert len(names) == 2
    assert all(len(name) <= 253 for name in names)
    assert any(name.startswith("a" * 200) for name in names)


def test_the_state_configmaps_reference_carries_its_uid(api: client.ApiClient) -> None:
    states = KubeRemediationStates(api, namespace=seed.STATE_NS)
    assert states.ref(12).uid == "", "neither loaded nor saved here yet"
    states.save(RemediationState(task_id=12, repository=seed.REPO), resource_version=None)
    saved = states.ref(12)
    uid = client.CoreV1Api(api).read_namespaced_config_map(saved.name, seed.STATE_NS).metadata.uid
    assert saved == ObjectRef("v1", "ConfigMap", seed.STATE_NS, "task-12-remediation-state", uid)
    fresh = KubeRemediationStates(api, namespace=seed.STATE_NS)
    fresh.load(12)
    assert fresh.ref(12).uid == uid


def test_a_failing_api_never_raises_and_warns_once(
    api: client.ApiClient, kube: KubeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    kube.faults.add("status", verb="create", resource="events", status=500)
    writer = trail(api, pause_s=0)
    ref = audit.coderun(seed.AGENT_NS, "cleo-12", "u-1")

    with caplog.at_level(logging.DEBUG, logger="remedy.audit"):
        for _ in range(3):
            writer.record(ref, reason="CancellationRequested", action="Cancel", note="n")

    assert (writer.written, writer.failed) == (0, 3)
    levels = [r.levelno for r in caplog.records if r.name == "remedy.audit"]
    assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    assert "HTTP 500" in caplog.records[0].getMessage()
    assert "CodeRun agent-platform/cleo-12" in caplog.records[0].getMessage()
    assert stored(api, seed.AGENT_NS) == []


def test_an_outage_pauses_writing_until_it_is_over(
    api: client.ApiClient, kube: KubeEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    outage = kube.faults.add("status", verb="create", resource="events", status=503)
    clock = Monotonic()
    writer = trail(api, pause_s=30, monotonic=clock)
    ref = audit.coderun(seed.AGENT_NS, "cleo-12", "u-1")
    kube.stats.reset()

    writer.record(ref, reason="CancellationRequested", action="Cancel", note="first")
    writer.record(ref, reason="CancellationRequested", action="Cancel", note="second")
    assert (writer.failed, writer.skipped, creates(kube)) == (1, 1, 1), "no request while paused"

    kube.faults.remove(outage.id)
    clock.now += 29
    writer.record(ref, reason="CancellationRequested", action="Cancel", note="third")
    assert (writer.skipped, creates(kube)) == (2, 1)
    clock.now += 2
    with caplog.at_level(logging.INFO, logger="remedy.audit"):
        writer.record(ref, reason="CancellationRequested", action="Cancel", note="fourth")
    assert [e["note"] for e in stored(api, seed.AGENT_NS)] == ["fourth"]
    assert "written again (2 skipped" in caplog.records[-1].getMessage()


def test_a_slow_api_costs_one_short_timeout(api: client.ApiClient, kube: KubeEmulator) -> None:
    kube.faults.add("latency", verb="create", resource="events", latency_ms=3000, count=1)
    writer = trail(api, timeout_s=0.3, pause_s=30)
    ref = audit.workflow({"metadata": {"name": "play-task-12", "namespace": seed.ARGO_NS}})

    started = time.monotonic()
    for _ in range(3):
        writer.record(ref, reason="WorkflowResumed", action="Resume", note="n")
    assert time.monotonic() - started < 1.5
    assert (writer.failed, writer.skipped) == (1, 2)


def test_a_refusal_is_no_outage(api: client.ApiClient, kube: KubeEmulator) -> None:
    kube.faults.add("status", verb="create", resource="events", status=403, count=1)
    writer = trail(api, pause_s=30)
    ref = ObjectRef("v1", "ConfigMap", seed.STATE_NS, "task-12-remediation-state")

    writer.record(ref, reason="LabelsReset", action="Relabel", note="refused")
    writer.record(ref, reason="LabelsReset", action="Relabel", note="written")

    assert (writer.failed, writer.skipped, writer.written) == (1, 0, 1)
    assert [e["note"] for e in stored(api, seed.STATE_NS)] == ["written"]


@pytest.mark.parametrize(
    ("function", "pod", "expected"),
    [
        ("agent-cancel", None, "agent-cancel"),
        ("agent-cancel", "", "agent-cancel"),
        ("agent-cancel", "agent-cancel-00001-deployment-5f7-x2x4q",
         "agent-cancel/agent-cancel-00001-deployment-5f7-x2x4q"),
        ("reconciler", "p" * 200, ("reconciler/" + "p" * 200)[:128]),
    ],
)  # fmt: skip
def test_the_reporting_instance_is_the_function_and_its_pod(
    function: str, pod: str | None, expected: str
) -> None:
    assert reporting_instance(function, pod) == expected
