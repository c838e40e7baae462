"""Discovery, authentication, OpenAPI and the shipped CRDs.

Covers: anonymous ``/version`` and health endpoints but 401 Unauthorized (a Status)
elsewhere without the bearer token or with a wrong one; ``/api``, ``/apis``,
``/apis/<group>``, per-version resource lists; a group appearing when its CRD is
applied and vanishing when it is deleted; Events in core v1 and in events.k8s.io/v1
(verbs, short name ``ev``, one storage version hash); the CodeRun CRD registering
``coderuns`` (short name ``cr``, status subresource) in agents.platform/v1 and
Workflows in argoproj.io/v1alpha1; the bundled CodeRun CRD being byte-identical to
the reference; the OpenAPI v3 documents kubectl reads to decide on server-side field
validation; unknown paths answering 404 Status.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client

from remedy.local.emulators.kube import KubeEmulator, crds
from tests.emulators.kube.support import Http

CRDS = Path(crds.__file__).parent / "crds"


def test_version_and_health_are_public(http: Http) -> None:
    for path in ("/version", "/healthz", "/readyz", "/livez"):
        answer = http("GET", path, headers={"Authorization": ""})
        assert answer.status_code == 200, path
    assert http("GET", "/version").json()["major"] == "1"


@pytest.mark.parametrize("authorization", ["", "Bearer wrong-token", "Basic dXNlcjpwYXNz"])
def test_everything_else_needs_the_token(http: Http, authorization: str) -> None:
    answer = http("GET", "/api/v1/namespaces", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "Unauthorized",
        "reason": "Unauthorized",
        "code": 401,
    }


def test_core_and_group_discovery(http: Http) -> None:
    assert http("GET", "/api").json()["versions"] == ["v1"]
    core = {r["name"]: r for r in http("GET", "/api/v1").json()["resources"]}
    assert {"namespaces", "configmaps", "events", "secrets", "namespaces/status"} <= set(core)
    assert core["namespaces"]["namespaced"] is False and core["configmaps"]["shortNames"] == ["cm"]
    groups = {g["name"]: g for g in http("GET", "/apis").json()["groups"]}
    assert {"agents.platform", "argoproj.io", "coordination.k8s.io", "apiextensions.k8s.io"} <= set(
        groups
    )
    assert groups["argoproj.io"]["preferredVersion"] == {
        "groupVersion": "argoproj.io/v1alpha1",
        "version": "v1alpha1",
    }


def test_coderun_crd_registers_coderuns(http: Http) -> None:
    resources = {r["name"]: r for r in http("GET", "/apis/agents.platform/v1").json()["resources"]}
    assert resources["coderuns"]["kind"] == "CodeRun"
    assert resources["coderuns"]["shortNames"] == ["cr"]
    assert resources["coderuns"]["namespaced"] is True
    assert resources["coderuns/status"]["verbs"] == ["get", "patch", "update"]
    workflows = {
        r["name"]: r for r in http("GET", "/apis/argoproj.io/v1alpha1").json()["resources"]
    }
    assert workflows["workflows"]["shortNames"] == ["wf"]
    assert "workflows/status" not in workflows


def test_events_in_both_groups(http: Http) -> None:
    """Events are served as core v1 and events.k8s.io/v1, one storage behind both."""
    core = {r["name"]: r for r in http("GET", "/api/v1").json()["resources"]}
    groups = {g["name"]: g for g in http("GET", "/apis").json()["groups"]}
    assert groups["events.k8s.io"]["preferredVersion"] == {
        "groupVersion": "events.k8s.io/v1",
        "version": "v1",
    }
    assert http("GET", "/apis/events.k8s.io").json()["versions"] == [
        {"groupVersion": "events.k8s.io/v1", "version": "v1"}
    ]
    listed = http("GET", "/apis/events.k8s.io/v1").json()["resources"]
    assert [r["name"] for r in listed] == ["events"]
    expected = {
        "name": "events",
        "singularName": "event",
        "namespaced": True,
        "kind": "Event",
        "verbs": [
            "create",
            "delete",
            "deletecollection",
            "get",
            "list",
            "patch",
            "update",
            "watch",
        ],
        "shortNames": ["ev"],
        "storageVersionHash": "r2yiGXH7wu8=",  # the hash of the storage version, v1 Event
    }
    assert core["events"] == expected and listed[0] == expected


def test_group_appears_with_its_crd(api: client.ApiClient, http: Http) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Cluster",
            "names": {"plural": "widgets", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1beta1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }
    assert http("GET", "/apis/example.com").status_code == 404
    extensions = client.ApiextensionsV1Api(api)
    extensions.create_custom_resource_definition(crd)
    assert http("GET", "/apis/example.com").json()["preferredVersion"]["version"] == "v1beta1"
    created = client.CustomObjectsApi(api).create_cluster_custom_object(
        "example.com",
        "v1beta1",
        "widgets",
        {
            "apiVersion": "example.com/v1beta1",
            "kind": "Widget",
            "metadata": {"name": "w"},
            "size": 3,
        },
    )
    assert created["size"] == 3
    extensions.delete_custom_resource_definition("widgets.example.com")
    assert http("GET", "/apis/example.com/v1beta1").status_code == 404


def test_invalid_crd_is_rejected(http: Http) -> None:
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "wrong.example.com"},
        "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"plural": "things", "kind": "Thing"},
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }
    answer = http("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", json=crd)
    assert answer.status_code == 422
    assert (
        'metadata.name: Invalid value: "wrong.example.com": must be '
        'spec.names.plural+"."+spec.group'
    ) in answer.json()["message"]


def test_bundled_coderun_crd_is_the_reference(reference_dir: Path) -> None:
    assert (CRDS / "coderun.yaml").read_bytes() == (
        reference_dir / "cto-coderun-crd.yaml"
    ).read_bytes()


def test_openapi_v3_declares_field_validation(http: Http) -> None:
    index = http("GET", "/openapi/v3").json()["paths"]
    assert "apis/agents.platform/v1" in index and "api/v1" in index
    document = http("GET", index["apis/agents.platform/v1"]["serverRelativeURL"]).json()
    patch = document["paths"]["/apis/agents.platform/v1/namespaces/{namespace}/coderuns/{name}"][
        "patch"
    ]
    assert patch["x-kubernetes-group-version-kind"] == {
        "group": "agents.platform",
        "version": "v1",
        "kind": "CodeRun",
    }
    assert "fieldValidation" in {parameter["name"] for parameter in patch["parameters"]}
    assert "application/strategic-merge-patch+json" not in patch["requestBody"]["content"]


def test_unknown_paths_are_not_found(http: Http) -> None:
    for path in ("/apis/nope.io/v1/things", "/api/v1/widgets", "/nothing"):
        answer = http("GET", path)
        assert answer.status_code == 404
        assert answer.json()["kind"] == "Status"


def test_emulator_without_crds_serves_only_builtins() -> None:
    with KubeEmulator(install_crds=False, tls=False) as bare:
        groups = {g.name for g in client.ApisApi(bare.api_client()).get_api_versions().groups}
    assert "agents.platform" not in groups and "coordination.k8s.io" in groups


def test_install_crds_over_the_api() -> None:
    """``install_crds`` also works through a client, as it would on a real cluster."""
    with KubeEmulator(install_crds=False) as bare:
        api = bare.api_client()
        assert crds.install_crds(api) == ["coderuns.agents.platform", "workflows.argoproj.io"]
        assert crds.install_crds(api) == ["coderuns.agents.platform", "workflows.argoproj.io"]
        resources = client.CustomObjectsApi(api).list_namespaced_custom_object(
            "agents.platform", "v1", "default", "coderuns"
        )
        assert resources["items"] == []
