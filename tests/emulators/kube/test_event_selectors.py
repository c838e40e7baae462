"""Field selectors on Events, in both versions, through the official python client.

Covers: every field label the apiserver accepts for core ``v1`` Events
(``involvedObject.*``, ``reason``, ``reportingComponent``, ``source`` — which falls
back to the reporting controller —, ``type``, ``metadata.*``) and for
``events.k8s.io/v1`` (``regarding.*``, ``reportingController``, ``reason``,
``source``, ``type``, ``metadata.*``), with ``=``, ``==``, ``!=`` and several terms;
each version refusing the other's spellings and unknown fields with the apiserver's
400 "field label not supported"; a watch through ``events.k8s.io/v1`` filtered by
``regarding.name``.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import Http, coderun, micro_time, new_event, reference

WORKFLOW = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Workflow",
    "metadata": {"name": "play-3"},
    "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
}


@pytest.fixture
def uids(kube: KubeEmulator, api: client.ApiClient) -> dict[str, str]:
    """Three Events differing in every selectable field: ``a`` about a CodeRun and ``b``
    about a Workflow (written as events.k8s.io/v1), ``c`` about a ConfigMap (core v1,
    with a ``source``)."""
    run, flow = kube.apply(coderun("run-a")), kube.apply(WORKFLOW)
    state = kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "state"}})
    events = client.EventsV1Api(api)
    about_run = dict(reference(run), resourceVersion="11", fieldPath="spec.model")
    events.create_namespaced_event("default", new_event("a", about_run))
    b = new_event("b", reference(flow), reason="WorkflowResumed", kind="Warning")
    b["reportingController"] = "remedy.io/resumer"
    events.create_namespaced_event("default", b)
    c = {
        "metadata": {"name": "c"},
        "involvedObject": reference(state),
        "eventTime": micro_time(),
        "reportingComponent": "state-keeper",
        "reportingInstance": "keeper-0",
        "action": "Save",
        "reason": "StateSaved",
        "source": {"component": "legacy-writer"},
        "type": "Normal",
    }
    client.CoreV1Api(api).create_namespaced_event("default", c)
    return {"run": run["metadata"]["uid"], "flow": flow["metadata"]["uid"]}


CORE_CASES = [
    ("involvedObject.kind=CodeRun", ["a"]),
    ("involvedObject.namespace=default", ["a", "b", "c"]),
    ("involvedObject.name==play-3", ["b"]),
    ("involvedObject.uid={run}", ["a"]),
    ("involvedObject.apiVersion=argoproj.io/v1alpha1", ["b"]),
    ("involvedObject.resourceVersion=11", ["a"]),
    ("involvedObject.fieldPath=spec.model", ["a"]),
    ("reason=StateSaved", ["c"]),
    ("reportingComponent=remedy", ["a"]),
    ("source=legacy-writer", ["c"]),
    ("source=remedy.io/resumer", ["b"]),  # no source.component: the reporting controller
    ("type=Warning", ["b"]),
    ("type!=Warning", ["a", "c"]),
    ("metadata.name=b", ["b"]),
    ("metadata.namespace=default", ["a", "b", "c"]),
    ("involvedObject.kind=CodeRun,type=Warning", []),
    ("involvedObject.name=run-a,involvedObject.uid={run},involvedObject.kind=CodeRun", ["a"]),
]
EVENTS_CASES = [
    ("regarding.kind=Workflow", ["b"]),
    ("regarding.namespace=default", ["a", "b", "c"]),
    ("regarding.name=run-a", ["a"]),
    ("regarding.uid={flow}", ["b"]),
    ("regarding.apiVersion=v1", ["c"]),
    ("regarding.resourceVersion=11", ["a"]),
    ("regarding.fieldPath!=spec.model", ["b", "c"]),
    ("reason=WorkflowResumed", ["b"]),
    ("reportingController=state-keeper", ["c"]),
    ("source=remedy", ["a"]),
    ("type=Normal", ["a", "c"]),
    ("metadata.name=c", ["c"]),
    ("metadata.namespace=default", ["a", "b", "c"]),
    ("regarding.kind=CodeRun,reportingController=remedy", ["a"]),
]


@pytest.mark.parametrize(("selector", "expected"), CORE_CASES)
def test_core_v1_field_selectors(
    api: client.ApiClient, uids: dict[str, str], selector: str, expected: list[str]
) -> None:
    listed = client.CoreV1Api(api).list_namespaced_event(
        "default", field_selector=selector.format(**uids)
    )
    assert [item.metadata.name for item in listed.items] == expected


@pytest.mark.parametrize(("selector", "expected"), EVENTS_CASES)
def test_events_v1_field_selectors(
    api: client.ApiClient, uids: dict[str, str], selector: str, expected: list[str]
) -> None:
    listed = client.EventsV1Api(api).list_namespaced_event(
        "default", field_selector=selector.format(**uids)
    )
    assert [item.metadata.name for item in listed.items] == expected


def test_selectors_work_across_namespaces(api: client.ApiClient, uids: dict[str, str]) -> None:
    core = client.CoreV1Api(api).list_event_for_all_namespaces(field_selector="type=Warning")
    events = client.EventsV1Api(api).list_event_for_all_namespaces(
        field_selector=f"regarding.uid={uids['run']}"
    )
    assert [item.metadata.name for item in core.items] == ["b"]
    assert [item.metadata.name for item in events.items] == ["a"]


@pytest.mark.parametrize(
    ("events_v1", "label"),
    [
        (False, "regarding.name"),
        (False, "reportingController"),
        (False, "message"),
        (False, "spec.foo"),
        (True, "involvedObject.name"),
        (True, "reportingComponent"),
        (True, "note"),
        (True, "deprecatedSource.component"),
    ],
)
def test_unsupported_field_labels_are_400(
    api: client.ApiClient, events_v1: bool, label: str
) -> None:
    with pytest.raises(ApiException) as refused:
        if events_v1:
            client.EventsV1Api(api).list_namespaced_event("default", field_selector=f"{label}=x")
        else:
            client.CoreV1Api(api).list_namespaced_event("default", field_selector=f"{label}=x")
    assert refused.value.status == 400
    status: dict[str, Any] = json.loads(refused.value.body)
    assert (status["reason"], status["message"]) == (
        "BadRequest",
        f"field label not supported: {label}",
    )


def test_watch_through_events_v1_is_filtered(http: Http, uids: dict[str, str]) -> None:
    stream = http(
        "GET",
        "/apis/events.k8s.io/v1/namespaces/default/events"
        "?watch=true&timeoutSeconds=1&fieldSelector=regarding.name%3Drun-a",
        stream=True,
    )
    seen = [json.loads(line) for line in stream.iter_lines() if line]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in seen] == [("ADDED", "a")]
    assert seen[0]["object"]["regarding"]["uid"] == uids["run"]
