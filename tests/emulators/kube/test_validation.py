"""Validation answers: 422 Invalid and 400 BadRequest, in the apiserver's words.

Covers: invalid object names (DNS subdomain; DNS label for namespaces), label keys
and values, a name or generateName being required; a CodeRun checked against its
CRD schema (required fields, types, enums) with defaults applied and undeclared
fields pruned, or rejected under ``fieldValidation=Strict``; apiVersion/kind that
do not match the URL; malformed JSON. A rejected write changes nothing.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, Http, coderun

SUBDOMAIN = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)


def _rejected(error: ApiException) -> tuple[int, str, str]:
    body: dict[str, Any] = json.loads(error.body)
    return error.status, body["reason"], body["message"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "Bad_Name",
            f'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: '
            f'"Bad_Name": {SUBDOMAIN}',
        ),
        (
            "-leading",
            f'ConfigMap "-leading" is invalid: metadata.name: Invalid value: '
            f'"-leading": {SUBDOMAIN}',
        ),
        (
            "x" * 254,
            f'ConfigMap "{"x" * 254}" is invalid: metadata.name: Invalid value: '
            f'"{"x" * 254}": must be no more than 253 bytes',
        ),
    ],
)
def test_invalid_names(core: client.CoreV1Api, name: str, expected: str) -> None:
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map("default", {"metadata": {"name": name}})
    assert _rejected(invalid.value) == (422, "Invalid", expected)


def test_namespace_names_are_dns_labels(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as invalid:
        core.create_namespace({"metadata": {"name": "a.b"}})
    assert (
        _rejected(invalid.value)[2]
        == 'Namespace "a.b" is invalid: metadata.name: Invalid value: "a.b": must not contain dots'
    )


def test_name_or_generate_name_required(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map("default", {"metadata": {}})
    assert _rejected(invalid.value)[2] == (
        'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required'
    )


def test_invalid_labels(core: client.CoreV1Api) -> None:
    with pytest.raises(ApiException) as invalid:
        core.create_namespaced_config_map(
            "default", {"metadata": {"name": "ok", "labels": {"bad key": "v", "good": "bad value"}}}
        )
    status, reason, message = _rejected(invalid.value)
    assert (status, reason) == (422, "Invalid")
    assert (
        'metadata.labels: Invalid value: "bad key": name part must consist of '
        "alphanumeric characters"
    ) in message
    assert (
        'metadata.labels: Invalid value: "bad value": a valid label must be an empty string'
        in message
    )
    body = json.loads(invalid.value.body)
    assert [cause["field"] for cause in body["details"]["causes"]] == [
        "metadata.labels",
        "metadata.labels",
    ]


def test_coderun_schema_is_enforced(custom: client.CustomObjectsApi, kube: KubeEmulator) -> None:
    manifest = coderun("bad")
    del manifest["spec"]["model"]
    manifest["spec"]["taskId"] = "three"
    manifest["spec"]["runType"] = "chaos"
    with pytest.raises(ApiException) as invalid:
        custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, manifest)
    status, reason, message = _rejected(invalid.value)
    assert (status, reason) == (422, "Invalid")
    assert message.startswith('CodeRun.agents.platform "bad" is invalid: [')
    assert "spec.model: Required value" in message
    assert (
        'spec.taskId: Invalid value: "string": spec.taskId in body must be of '
        'type integer: "string"'
    ) in message
    assert (
        'spec.runType: Unsupported value: "chaos": supported values: '
        '"implementation", "documentation", "intake"'
    ) in message
    assert kube.list("agents.platform/v1", "CodeRun") == []


def test_defaults_applied_and_unknown_fields_pruned(custom: client.CustomObjectsApi) -> None:
    """Structural schemas default and prune like the real server: a field remedy
    writes that the CRD does not declare would silently vanish on a cluster too."""
    manifest = coderun("pruned")
    manifest["spec"]["notInSchema"] = "x"
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, manifest)
    assert "notInSchema" not in created["spec"]
    assert created["spec"]["runType"] == "implementation"
    assert created["spec"]["enableDocker"] is True
    status = custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "pruned",
        {"status": {"phase": "Running", "cancelRequested": True}},
    )
    assert status["status"] == {"phase": "Running"}


def test_strict_field_validation_rejects_unknown_fields(http: Http) -> None:
    manifest = coderun("strict")
    manifest["spec"]["notInSchema"] = "x"
    answer = http(
        "POST",
        "/apis/agents.platform/v1/namespaces/default/coderuns?fieldValidation=Strict",
        json=manifest,
    )
    assert answer.status_code == 400
    assert answer.json()["message"] == 'strict decoding error: unknown field "spec.notInSchema"'
    warned = http(
        "POST",
        "/apis/agents.platform/v1/namespaces/default/coderuns?fieldValidation=Warn",
        json=manifest,
    )
    assert warned.status_code == 201
    assert warned.headers["Warning"] == '299 - "unknown field \\"spec.notInSchema\\""'


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {**coderun("v"), "apiVersion": "agents.platform/v2"},
            "the API version in the data (agents.platform/v2) does not match the "
            "expected API version (agents.platform/v1)",
        ),
        (
            {**coderun("k"), "kind": "Workflow"},
            "the kind in the data (Workflow) does not match the expected kind (CodeRun)",
        ),
    ],
)
def test_type_mismatch_is_bad_request(http: Http, body: dict[str, Any], message: str) -> None:
    answer = http("POST", "/apis/agents.platform/v1/namespaces/default/coderuns", json=body)
    assert (answer.status_code, answer.json()["reason"], answer.json()["message"]) == (
        400,
        "BadRequest",
        message,
    )


def test_malformed_json_is_bad_request(http: Http) -> None:
    answer = http(
        "POST",
        "/api/v1/namespaces/default/configmaps",
        data=b'{"metadata": ',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["kind"] == "Status"
    assert answer.json()["message"].startswith("couldn't get version/kind; json parse error")


def test_name_in_body_must_match_url(http: Http) -> None:
    http("POST", "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": "a"}})
    answer = http(
        "PUT", "/api/v1/namespaces/default/configmaps/a", json={"metadata": {"name": "b"}}
    )
    assert answer.status_code == 400
    assert (
        answer.json()["message"]
        == "the name of the object (b) does not match the name on the URL (a)"
    )
