"""Fault injection at run time, from Python and over the admin endpoint.

Covers: added latency on one verb and resource only; 5xx answers (as Status objects,
Retry-After on 503) for a given number of requests, then normal service; a 409
storm on patches that leaves the object untouched until it passes; dropped
connections (no response at all); probability 0 never firing; rules added, listed,
removed and cleared over ``/_emulator/faults``, with 400 for a malformed rule and
401 without the token; request counts per verb and resource in
``/_emulator/stats``.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, Http, coderun


def test_latency_applies_to_the_chosen_verb_and_resource(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    rule = kube.faults.add("latency", verb="list", resource="coderuns", latency_ms=300)
    started = time.monotonic()
    custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert time.monotonic() - started >= 0.3
    client.CoreV1Api(custom.api_client).list_namespaced_config_map("default")
    kube.apply(coderun("x"))
    custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "x")
    assert rule.fired == 1


def test_server_errors_for_a_number_of_requests(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.faults.add("status", verb="list", resource="agents.platform/coderuns", status=500, count=2)
    for _ in range(2):
        with pytest.raises(ApiException) as failed:
            custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
        body = json.loads(failed.value.body)
        assert (failed.value.status, body["kind"], body["reason"]) == (
            500,
            "Status",
            "InternalError",
        )
    assert custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"] == []
    assert kube.faults.rules() == []


def test_skip_lets_the_first_matching_requests_through(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.faults.add("status", verb="list", resource="coderuns", status=500, count=1, skip=2)
    for _ in range(2):
        custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    with pytest.raises(ApiException) as failed:
        custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert failed.value.status == 500
    assert custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"] == []


def test_unavailable_carries_retry_after(
    kube: KubeEmulator, http: Http, custom: client.CustomObjectsApi
) -> None:
    """503 comes with Retry-After, which the kubernetes client honours by retrying."""
    rule = kube.faults.add("status", verb="list", resource="coderuns", status=503, count=1)
    answer = http("GET", "/apis/agents.platform/v1/namespaces/default/coderuns")
    assert (answer.status_code, answer.headers["Retry-After"]) == (503, "1")
    assert answer.json()["reason"] == "ServiceUnavailable"
    kube.faults.add_rule(
        rule.__class__(kind="status", verb="list", resource="coderuns", status=503, count=1)
    )
    assert custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)["items"] == []
    assert kube.faults.rules() == []


def test_conflict_storm_leaves_the_object_alone(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.apply(coderun("contended"))
    kube.faults.add("conflict", verb="patch", resource="coderuns", count=3)
    attempts = 0
    while True:
        attempts += 1
        try:
            custom.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                "default",
                PLURAL,
                "contended",
                {"spec": {"model": f"try-{attempts}"}},
            )
            break
        except ApiException as conflict:
            assert conflict.status == 409
            assert json.loads(conflict.body)["message"].startswith(
                'Operation cannot be fulfilled on coderuns.agents.platform "contended"'
            )
            assert (
                kube.get("agents.platform/v1", "CodeRun", "contended")["spec"]["model"]
                == "claude-sonnet"
            )
    assert attempts == 4
    assert kube.get("agents.platform/v1", "CodeRun", "contended")["spec"]["model"] == "try-4"


def test_dropped_connection_gets_no_response(kube: KubeEmulator, http: Http) -> None:
    rule = kube.faults.add("drop", verb="get", resource="configmaps", count=1)
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    with pytest.raises(requests.ConnectionError):
        http("GET", "/api/v1/namespaces/default/configmaps/c")
    assert rule.fired == 1
    assert http("GET", "/api/v1/namespaces/default/configmaps/c").status_code == 200


def test_probability_zero_never_fires(kube: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    rule = kube.faults.add("status", probability=0.0)
    for _ in range(20):
        custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    assert rule.fired == 0


def test_admin_endpoint(kube: KubeEmulator, http: Http) -> None:
    added = http(
        "POST", "/_emulator/faults", json={"kind": "status", "verb": "create", "status": 500}
    )
    assert added.status_code == 201
    rule_id = added.json()["id"]
    assert [rule["id"] for rule in http("GET", "/_emulator/faults").json()["rules"]] == [rule_id]
    failed = http("POST", "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "n"}})
    assert (failed.status_code, failed.json()["reason"]) == (500, "InternalError")
    assert http("DELETE", f"/_emulator/faults/{rule_id}").status_code == 200
    assert http("DELETE", f"/_emulator/faults/{rule_id}").status_code == 404
    created = http(
        "POST", "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "n"}}
    )
    assert created.status_code == 201
    http("POST", "/_emulator/faults", json={"kind": "latency", "latency_ms": 1})
    assert http("DELETE", "/_emulator/faults").json() == {"cleared": 1}


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": "explode"},
        {"kind": "status", "status": 200},
        {"kind": "status", "verb": "yell"},
        {"kind": "latency", "probability": 2},
        {"kind": "drop", "count": 0},
        {"kind": "drop", "skip": -1},
        {"kind": "drop", "skip": True},
        {"kind": "latency", "surprise": True},
        ["not", "an", "object"],
    ],
)
def test_malformed_rules_are_rejected(kube: KubeEmulator, http: Http, rule: object) -> None:
    answer = http("POST", "/_emulator/faults", json=rule)
    assert answer.status_code == 400
    assert answer.json()["kind"] == "Status"
    assert kube.faults.rules() == []


def test_admin_needs_the_token(http: Http) -> None:
    answer = http("POST", "/_emulator/faults", json={"kind": "drop"}, headers={"Authorization": ""})
    assert answer.status_code == 401


def test_stats_count_requests_per_verb_and_resource(
    kube: KubeEmulator, custom: client.CustomObjectsApi, http: Http
) -> None:
    http("DELETE", "/_emulator/stats")
    kube.apply(coderun("s"))
    for _ in range(3):
        custom.list_namespaced_custom_object(GROUP, VERSION, "default", PLURAL)
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "s", {"spec": {"model": "m"}}
    )
    counts = http("GET", "/_emulator/stats").json()["requests"]
    assert counts == {"list coderuns": 3, "patch coderuns": 1, "total": 4}
