"""Events in both versions, through the official python client and raw HTTP.

Covers: an ``events.k8s.io/v1`` Event created with ``EventsV1Api`` read back through
``CoreV1Api`` (``regarding`` → ``involvedObject``, ``note`` → ``message``,
``reportingController`` → ``reportingComponent``) and a core ``v1`` Event created with
``CoreV1Api`` read back as ``events.k8s.io/v1`` (``deprecatedSource``,
``deprecated…Timestamp``, ``deprecatedCount``), each byte for byte as Go encodes it
(``null`` zero times, ``{}`` empty structs, core's ``reportingComponent`` always
present); one store behind both (a list, a delete and a watch through one version see
writes through the other); creation through ``events.k8s.io/v1`` validated like the
apiserver (422 listing eventTime, type, reporting fields, deprecated fields, series),
core ``v1`` only by the legacy rules (namespace agreement; reporting fields once
``eventTime`` is set, named ``reportingComponent``); ``MicroTime`` needing six
fractional digits (400 with Go's parse error); times written back in UTC, ``Time``
in whole seconds, the zero time as ``null``; updates through ``events.k8s.io/v1``
changing only the series; unknown fields (400 under Strict, a warning otherwise) and
wrongly typed fields (400).
"""

from __future__ import annotations

import datetime
import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import Http, coderun, micro_time, new_event, reference

EVENTS = "/apis/events.k8s.io/v1/namespaces/default/events"
CORE = "/api/v1/namespaces/default/events"


@pytest.fixture
def run(kube: KubeEmulator) -> dict[str, Any]:
    return kube.apply(coderun("run-a"))


def _without_metadata(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key != "metadata"}


def test_events_v1_event_reads_back_as_core_v1(
    api: client.ApiClient, http: Http, run: dict[str, Any]
) -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC)
    regarding = reference(run)
    created = client.EventsV1Api(api).create_namespaced_event(
        "default",
        client.EventsV1Event(
            metadata=client.V1ObjectMeta(name="run-a.1"),
            event_time=when,
            reporting_controller="remedy",
            reporting_instance="agent-cancel-0",
            action="Cancel",
            reason="CancellationRequested",
            regarding=client.V1ObjectReference(
                api_version=regarding["apiVersion"],
                kind="CodeRun",
                name="run-a",
                namespace="default",
                uid=regarding["uid"],
            ),
            related=client.V1ObjectReference(kind="Workflow", name="play-3", namespace="default"),
            note="task 3 superseded by a push",
            type="Normal",
        ),
    )
    assert created.event_time == when and created.regarding.uid == regarding["uid"]

    core = client.CoreV1Api(api).read_namespaced_event("run-a.1", "default")
    assert core.involved_object.to_dict() == {
        "api_version": "agents.platform/v1",
        "field_path": None,
        "kind": "CodeRun",
        "name": "run-a",
        "namespace": "default",
        "resource_version": None,
        "uid": regarding["uid"],
    }
    assert (core.message, core.reporting_component, core.reporting_instance) == (
        "task 3 superseded by a push",
        "remedy",
        "agent-cancel-0",
    )
    assert (core.event_time, core.first_timestamp, core.count) == (when, None, None)

    assert _without_metadata(http("GET", f"{CORE}/run-a.1").json()) == {
        "kind": "Event",
        "apiVersion": "v1",
        "involvedObject": {
            "kind": "CodeRun",
            "namespace": "default",
            "name": "run-a",
            "uid": regarding["uid"],
            "apiVersion": "agents.platform/v1",
        },
        "reason": "CancellationRequested",
        "message": "task 3 superseded by a push",
        "source": {},
        "firstTimestamp": None,
        "lastTimestamp": None,
        "type": "Normal",
        "eventTime": "2026-01-02T03:04:05.123456Z",
        "action": "Cancel",
        "related": {"kind": "Workflow", "namespace": "default", "name": "play-3"},
        "reportingComponent": "remedy",
        "reportingInstance": "agent-cancel-0",
    }


def test_core_v1_event_reads_back_as_events_v1(
    api: client.ApiClient, http: Http, kube: KubeEmulator
) -> None:
    state = kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "state"}})
    client.CoreV1Api(api).create_namespaced_event(
        "default",
        client.CoreV1Event(
            metadata=client.V1ObjectMeta(name="state.1"),
            involved_object=client.V1ObjectReference(**_snake(reference(state))),
            reason="WorkflowResumed",
            message="resumed at waiting-pr-created",
            source=client.V1EventSource(component="remedy", host="node-1"),
            first_timestamp=datetime.datetime(2026, 1, 2, 3, 0, 0, tzinfo=datetime.UTC),
            last_timestamp=datetime.datetime(2026, 1, 2, 3, 30, 0, 900000, tzinfo=datetime.UTC),
            count=3,
            type="Normal",
        ),
    )
    assert _without_metadata(http("GET", f"{EVENTS}/state.1").json()) == {
        "kind": "Event",
        "apiVersion": "events.k8s.io/v1",
        "eventTime": None,
        "reason": "WorkflowResumed",
        "regarding": {
            "kind": "ConfigMap",
            "namespace": "default",
            "name": "state",
            "uid": state["metadata"]["uid"],
            "apiVersion": "v1",
        },
        "note": "resumed at waiting-pr-created",
        "type": "Normal",
        "deprecatedSource": {"component": "remedy", "host": "node-1"},
        "deprecatedFirstTimestamp": "2026-01-02T03:00:00Z",
        "deprecatedLastTimestamp": "2026-01-02T03:30:00Z",  # Time keeps whole seconds
        "deprecatedCount": 3,
    }


def test_new_style_core_event_reads_back_typed(api: client.ApiClient, run: dict[str, Any]) -> None:
    """A core v1 Event with eventTime and the reporting fields is a full new-style one."""
    body = {
        "metadata": {"name": "run-a.2"},
        "involvedObject": reference(run),
        "eventTime": micro_time(),
        "reportingComponent": "remedy",
        "reportingInstance": "agent-cancel-1",
        "action": "Cancel",
        "reason": "CancellationAcknowledged",
        "message": "acknowledged by the agent",
        "type": "Normal",
        "series": {"count": 2, "lastObservedTime": micro_time()},
    }
    client.CoreV1Api(api).create_namespaced_event("default", body)
    read = client.EventsV1Api(api).read_namespaced_event("run-a.2", "default")
    assert (read.reporting_controller, read.note, read.regarding.name) == (
        "remedy",
        "acknowledged by the agent",
        "run-a",
    )
    assert read.series.count == 2 and read.deprecated_count is None


def _snake(reference: dict[str, str]) -> dict[str, str]:
    return {
        ("api_version" if key == "apiVersion" else key): value for key, value in reference.items()
    }


def test_one_store_behind_both_versions(http: Http, run: dict[str, Any]) -> None:
    assert http("POST", EVENTS, json=new_event("run-a.1", reference(run))).status_code == 201
    core = http("GET", CORE).json()
    events = http("GET", EVENTS).json()
    assert (core["kind"], events["kind"]) == ("EventList", "EventList")
    assert [i["apiVersion"] for i in core["items"]] == ["v1"]
    assert [i["apiVersion"] for i in events["items"]] == ["events.k8s.io/v1"]
    assert core["items"][0]["metadata"] == events["items"][0]["metadata"]
    stream = http("GET", f"{EVENTS}?watch=true&timeoutSeconds=1", stream=True)
    first = json.loads(next(stream.iter_lines()))
    stream.close()
    assert (first["type"], first["object"]["apiVersion"]) == ("ADDED", "events.k8s.io/v1")
    assert http("DELETE", f"{CORE}/run-a.1").status_code == 200
    assert http("GET", f"{EVENTS}/run-a.1").status_code == 404


def _refused(http: Http, path: str, body: dict[str, Any]) -> dict[str, Any]:
    answer = http("POST", path, json=body)
    assert answer.status_code in (400, 422), answer.text
    refused: dict[str, Any] = answer.json()
    return refused


def test_events_v1_create_is_validated(http: Http, run: dict[str, Any]) -> None:
    body = new_event("run-a.1", reference(run))
    for field in ("eventTime", "reportingController", "reportingInstance", "action", "reason"):
        del body[field]
    body.update(type="Info", deprecatedCount=2, series={"count": 1})
    refused = _refused(http, EVENTS, body)
    assert (refused["code"], refused["reason"]) == (422, "Invalid")
    assert refused["message"] == (
        'Event.events.k8s.io "run-a.1" is invalid: ['
        'series.count: Invalid value: "": should be at least 2, '
        "series.lastObservedTime: Required value, "
        "eventTime: Required value, "
        'type: Invalid value: "": has invalid value: Info, '
        'count: Invalid value: "": needs to be unset]'
    )
    body = new_event("run-a.1", reference(run))
    del body["reportingController"], body["action"]
    assert _refused(http, EVENTS, body)["details"]["causes"] == [
        {
            "reason": "FieldValueRequired",
            "message": "Required value",
            "field": "reportingController",
        },
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "": name part must be non-empty',
            "field": "reportingController",
        },
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "": name part must consist of alphanumeric characters, '
            "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
            "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
            "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            "field": "reportingController",
        },
        {"reason": "FieldValueRequired", "message": "Required value", "field": "action"},
    ]


def test_core_v1_create_gets_the_legacy_rules(http: Http, run: dict[str, Any]) -> None:
    elsewhere = dict(reference(run), namespace="kube-system")
    legacy = {"metadata": {"name": "e.1"}, "involvedObject": elsewhere, "reason": "R"}
    refused = _refused(http, CORE, legacy)
    assert refused["message"] == (
        'Event "e.1" is invalid: involvedObject.namespace: Invalid value: "kube-system": '
        "does not match event.namespace"
    )
    new_style = {"metadata": {"name": "e.2"}, "involvedObject": reference(run)}
    new_style.update(eventTime=micro_time(), reportingInstance="i", action="A", reason="R")
    causes = _refused(http, CORE, new_style)["details"]["causes"]
    assert causes[0] == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "reportingComponent",
    }
    old_style = {"metadata": {"name": "e.3"}, "involvedObject": reference(run), "type": "Info"}
    assert http("POST", CORE, json=old_style).status_code == 201  # anything goes in v1


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("2026-01-02T03:04:05Z", 'cannot parse "Z" as ".000000"'),
        ("2026-01-02T03:04:05.123Z", 'cannot parse ".123Z" as ".000000"'),
        ("2026-01-02T03:04:05+00:00", 'cannot parse "+00:00" as ".000000"'),
        ("2026-01-02 03:04:05.123456Z", 'cannot parse " 03:04:05.123456Z" as "T"'),
    ],
)
def test_micro_time_needs_six_fractional_digits(
    http: Http, run: dict[str, Any], value: str, why: str
) -> None:
    """What ``datetime.isoformat()`` gives for a datetime without microseconds fails."""
    body = dict(new_event("run-a.1", reference(run)), eventTime=value)
    refused = _refused(http, EVENTS, body)
    assert refused["message"] == (
        'Event in version "v1" cannot be handled as a Event: parsing time '
        f'"{value}" as "2006-01-02T15:04:05.000000Z07:00": {why}'
    )


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("firstTimestamp", "2026-01-02T05:04:05.9+02:00", "2026-01-02T03:04:05Z"),
        ("eventTime", "2026-01-02T05:04:05.123456+02:00", "2026-01-02T03:04:05.123456Z"),
        ("lastTimestamp", "0001-01-01T00:00:00Z", None),
        ("firstTimestamp", "2026-13-02T03:04:05Z", 'parsing time "2026-13-02T03:04:05Z": month'),
        ("lastTimestamp", "2026-02-30T03:04:05Z", 'parsing time "2026-02-30T03:04:05Z": day'),
        ("firstTimestamp", 20260102, "json: cannot unmarshal number into Go value of type str"),
    ],
)
def test_times_are_normalized_like_go(
    http: Http, run: dict[str, Any], field: str, value: object, stored: str | None
) -> None:
    """Times are written back in UTC (``Time`` in whole seconds), the zero time as null;
    what Go cannot parse is a 400 with its message."""
    body: dict[str, Any] = {"metadata": {"name": "e.1"}, "involvedObject": reference(run)}
    if field == "eventTime":
        body.update(reportingComponent="remedy", reportingInstance="i", action="A", reason="R")
    answer = http("POST", CORE, json=dict(body, **{field: value}))
    if stored is None or stored.startswith("20"):
        assert answer.status_code == 201, answer.text
        assert answer.json()[field] == stored
    else:
        assert answer.status_code == 400
        assert stored in answer.json()["message"]


def test_events_v1_updates_may_change_only_the_series(
    api: client.ApiClient, http: Http, run: dict[str, Any]
) -> None:
    http("POST", EVENTS, json=new_event("run-a.1", reference(run)))
    events = client.EventsV1Api(api)
    with pytest.raises(ApiException) as changed:
        events.patch_namespaced_event("run-a.1", "default", {"note": "other", "type": "Warning"})
    assert changed.value.status == 422
    assert json.loads(changed.value.body)["message"] == (
        'Event.events.k8s.io "run-a.1" is invalid: ['
        'message: Invalid value: "other": field is immutable, '
        'type: Invalid value: "Warning": field is immutable]'
    )
    series = {"series": {"count": 2, "lastObservedTime": micro_time()}}
    assert events.patch_namespaced_event("run-a.1", "default", series).series.count == 2
    patched = client.CoreV1Api(api).patch_namespaced_event(
        "run-a.1", "default", {"message": "core v1 may"}
    )
    assert (patched.message, patched.series.count) == ("core v1 may", 2)


def test_unknown_and_mistyped_fields(http: Http, run: dict[str, Any]) -> None:
    body = dict(new_event("run-a.1", reference(run)), bogus=1)
    strict = http("POST", f"{EVENTS}?fieldValidation=Strict", json=body)
    assert strict.status_code == 400
    assert strict.json()["message"] == 'strict decoding error: unknown field "bogus"'
    lenient = http("POST", EVENTS, json=body)
    assert lenient.status_code == 201
    assert lenient.headers["Warning"] == '299 - "unknown field \\"bogus\\""'
    assert "bogus" not in lenient.json()
    mistyped = dict(new_event("run-a.2", reference(run)), deprecatedCount="3")
    assert _refused(http, EVENTS, mistyped)["message"] == (
        'Event in version "v1" cannot be handled as a Event: json: cannot unmarshal string '
        "into Go struct field Event.deprecatedCount of type int32"
    )
