"""The OpenAPI documents, as raw HTTP and as data.

Covers: ``/openapi/v2`` served as a real apiserver serves it — JSON by default, the
gnostic protobuf client-go asks for (both spellings of its media type, ``q`` values
honoured), 406 otherwise, ``Vary: Accept``, an ``ETag`` that is the SHA-512 of the
JSON and answers ``If-None-Match`` with 304; the protobuf carrying the very document
the JSON does; CRD schemas published kube-native (GVK-tagged, ``ObjectMeta``
referenced, defaults pruned in v2) with their lists, following CRDs as they come
and go; PATCH operations listing the patch types kubectl chooses from; the v3
documents' components holding each group-version's kinds and what they refer to;
Events published in core v1 and events.k8s.io/v1; the rules that turn a CRD schema
into its v2 and v3 definitions (table-driven); and the shipped built-in definitions
being exactly Kubernetes 1.37's.
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest
import yaml

from remedy.local.emulators.kube import bundled_crds
from remedy.local.emulators.kube.openapi import definitions, v2
from remedy.local.emulators.kube.protobuf import Schema, decode_message
from remedy.local.emulators.kube.resources import ResourceType
from tests.emulators.kube import builtin_openapi
from tests.emulators.kube.support import Http

PB = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
CODERUN = "platform.agents.v1.CodeRun"
ITEM = "/apis/agents.platform/v1/namespaces/{namespace}/coderuns/{name}"
PATCH_TYPES = [
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/apply-patch+yaml",
]

# Just enough of gnostic's OpenAPIv2.proto to read names, types and extensions back.
_NAMED_ANY: Schema = {
    1: ("name", "string", None),
    2: ("value", "message", {2: ("yaml", "string", None)}),
}
_SCHEMA: dict[int, Any] = {
    1: ("$ref", "string", None),
    4: ("description", "string", None),
    19: ("required", "repeated-string", None),
    22: ("type", "message", {1: ("value", "repeated-string", None)}),
    31: ("extensions", "repeated-message", _NAMED_ANY),
}
_NAMED_SCHEMA: Schema = {1: ("name", "string", None), 2: ("value", "message", _SCHEMA)}
_SCHEMA[25] = ("properties", "message", {1: ("entries", "repeated-message", _NAMED_SCHEMA)})
_OPERATION: Schema = {
    5: ("operationId", "string", None),
    7: ("consumes", "repeated-string", None),
    13: ("extensions", "repeated-message", _NAMED_ANY),
}
_PATH_ITEM: Schema = {2: ("get", "message", _OPERATION), 8: ("patch", "message", _OPERATION)}
_DOCUMENT: Schema = {
    1: ("swagger", "string", None),
    8: (
        "paths",
        "message",
        {
            2: (
                "entries",
                "repeated-message",
                {1: ("name", "string", None), 2: ("value", "message", _PATH_ITEM)},
            )
        },
    ),
    9: ("definitions", "message", {1: ("entries", "repeated-message", _NAMED_SCHEMA)}),
}


def _v2(http: Http) -> dict[str, Any]:
    answer = http("GET", "/openapi/v2")
    assert answer.status_code == 200
    document: dict[str, Any] = answer.json()
    return document


def test_v2_is_json_by_default_with_a_content_etag(http: Http) -> None:
    answer = http("GET", "/openapi/v2", headers={"Accept": ""})
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/json"
    assert answer.headers["Vary"] == "Accept"
    digest = hashlib.sha512(answer.content).hexdigest().upper()
    assert answer.headers["Etag"] == f'"{digest}"'
    assert answer.json()["swagger"] == "2.0"
    again = http("GET", "/openapi/v2", headers={"If-None-Match": answer.headers["Etag"]})
    assert (again.status_code, again.content) == (304, b"")


@pytest.mark.parametrize(
    ("accept", "status", "content_type"),
    [
        ("application/json", 200, "application/json"),
        ("*/*", 200, "application/json"),
        ("application/*", 200, "application/json"),
        (PB, 200, v2.PROTOBUF),
        (v2.PROTOBUF, 200, v2.PROTOBUF),
        (f"application/json;q=0.5, {PB}", 200, v2.PROTOBUF),
        (f"{PB};q=0.1, application/json", 200, "application/json"),
        ("text/html", 406, None),
        ("application/yaml", 406, None),
    ],
)
def test_v2_content_negotiation(
    http: Http, accept: str, status: int, content_type: str | None
) -> None:
    answer = http("GET", "/openapi/v2", headers={"Accept": accept})
    assert answer.status_code == status
    assert answer.headers.get("Content-Type") == content_type


def test_v2_protobuf_carries_the_json_document(http: Http) -> None:
    document = _v2(http)
    answer = http("GET", "/openapi/v2", headers={"Accept": PB})
    decoded = decode_message(answer.content, _DOCUMENT)
    assert decoded["swagger"] == "2.0"
    named = {entry["name"]: entry["value"] for entry in decoded["definitions"]["entries"]}
    assert list(named) == list(document["definitions"])
    coderun = named[CODERUN]
    assert coderun["type"]["value"] == ["object"]
    properties = [entry["name"] for entry in coderun["properties"]["entries"]]
    assert properties == list(document["definitions"][CODERUN]["properties"])
    extensions = {entry["name"]: entry["value"]["yaml"] for entry in coderun["extensions"]}
    assert yaml.safe_load(extensions["x-kubernetes-group-version-kind"]) == [
        {"group": "agents.platform", "kind": "CodeRun", "version": "v1"}
    ]
    paths = {entry["name"]: entry["value"] for entry in decoded["paths"]["entries"]}
    assert list(paths) == list(document["paths"])
    assert paths[ITEM]["patch"]["consumes"] == PATCH_TYPES
    patch_gvk = {e["name"]: e["value"]["yaml"] for e in paths[ITEM]["patch"]["extensions"]}
    assert yaml.safe_load(patch_gvk["x-kubernetes-group-version-kind"])["kind"] == "CodeRun"


def test_v2_publishes_crd_schemas_kube_native(http: Http) -> None:
    found = _v2(http)["definitions"]
    coderun = found[CODERUN]
    assert coderun["x-kubernetes-group-version-kind"] == [
        {"group": "agents.platform", "kind": "CodeRun", "version": "v1"}
    ]
    assert coderun["required"] == ["spec"]
    assert coderun["properties"]["metadata"]["$ref"] == (
        "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    )
    assert coderun["properties"]["kind"]["type"] == "string"
    spec = coderun["properties"]["spec"]
    assert "default" not in spec["properties"]["runType"]  # PruneDefaults
    assert spec["properties"]["runType"]["enum"] == ["implementation", "documentation", "intake"]
    assert found["platform.agents.v1.CodeRunList"]["properties"]["items"]["items"] == {
        "$ref": f"#/definitions/{CODERUN}"
    }
    workflow = found["io.argoproj.v1alpha1.Workflow"]["properties"]["spec"]
    assert workflow == {
        "type": "object",
        "x-kubernetes-map-type": "atomic",
        "x-kubernetes-preserve-unknown-fields": True,
    }
    assert "io.k8s.api.core.v1.ConfigMap" in found
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in found


def test_v2_patch_operations_list_the_patch_types(http: Http) -> None:
    paths = _v2(http)["paths"]
    coderun = paths[ITEM]["patch"]
    assert coderun["x-kubernetes-group-version-kind"] == {
        "group": "agents.platform",
        "kind": "CodeRun",
        "version": "v1",
    }
    assert coderun["consumes"] == PATCH_TYPES
    assert {p["name"] for p in coderun["parameters"]} >= {"fieldValidation", "body"}
    # Built-in kinds leave strategic merge out, as in v3: kubectl then builds it from
    # its compiled-in types rather than from a schema.
    assert paths["/api/v1/namespaces/{namespace}/configmaps/{name}"]["patch"]["consumes"] == (
        PATCH_TYPES
    )
    assert "/apis/agents.platform/v1/namespaces/{namespace}/coderuns/{name}/status" in paths
    assert "/apis/agents.platform/v1/coderuns" in paths


def test_v2_follows_crds(http: Http) -> None:
    crd = copy.deepcopy(bundled_crds()[0])
    crd["metadata"]["name"] = "widgets.example.com"
    crd["spec"].update(group="example.com")
    crd["spec"]["names"] = {"plural": "widgets", "kind": "Widget"}
    path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    assert http("POST", path, json=crd).status_code == 201
    assert "com.example.v1.Widget" in _v2(http)["definitions"]
    assert http("DELETE", f"{path}/widgets.example.com").status_code == 200
    document = _v2(http)
    assert "com.example.v1.Widget" not in document["definitions"]
    assert not [p for p in document["paths"] if "example.com" in p]


def test_v3_components_hold_kinds_and_what_they_refer_to(http: Http) -> None:
    index = http("GET", "/openapi/v3").json()["paths"]
    core = http("GET", index["api/v1"]["serverRelativeURL"]).json()["components"]["schemas"]
    config_map = core["io.k8s.api.core.v1.ConfigMap"]
    assert config_map["x-kubernetes-group-version-kind"] == [
        {"group": "", "kind": "ConfigMap", "version": "v1"}
    ]
    assert config_map["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}
    ]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference" in core
    runs = http("GET", index["apis/agents.platform/v1"]["serverRelativeURL"]).json()
    schemas = runs["components"]["schemas"]
    assert schemas[CODERUN]["properties"]["spec"]["properties"]["runType"]["default"] == (
        "implementation"
    )
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in schemas
    assert "io.k8s.api.core.v1.ConfigMap" not in schemas


def test_events_are_published_in_both_versions(http: Http) -> None:
    document = _v2(http)
    for name, group in (
        ("io.k8s.api.core.v1.Event", ""),
        ("io.k8s.api.events.v1.Event", "events.k8s.io"),
    ):
        gvk = document["definitions"][name]["x-kubernetes-group-version-kind"]
        assert gvk == [{"group": group, "kind": "Event", "version": "v1"}]
    assert "regarding" in document["definitions"]["io.k8s.api.events.v1.Event"]["properties"]
    assert "/apis/events.k8s.io/v1/namespaces/{namespace}/events/{name}" in document["paths"]
    assert "/api/v1/namespaces/{namespace}/events/{name}" in document["paths"]
    index = http("GET", "/openapi/v3").json()["paths"]
    events = http("GET", index["apis/events.k8s.io/v1"]["serverRelativeURL"]).json()
    schemas = events["components"]["schemas"]
    assert {"io.k8s.api.events.v1.Event", "io.k8s.api.events.v1.EventList"} <= set(schemas)
    assert "io.k8s.api.core.v1.Event" not in schemas


def _widget(spec: dict[str, Any], **root: Any) -> ResourceType:
    schema = {"type": "object", "properties": {"spec": spec}, **root}
    return ResourceType(
        "example.com",
        "v1",
        "widgets",
        "widget",
        "Widget",
        namespaced=True,
        builtin=False,
        schema=schema,
    )


_EMBEDDED_META = {"apiVersion", "kind", "metadata"}


@pytest.mark.parametrize(
    ("case", "spec", "in_v2", "in_v3"),
    [
        (
            "nullable nodes lose their type in v2, and their place in required",
            {
                "type": "object",
                "required": ["a", "b"],
                "properties": {
                    "a": {"type": "string", "nullable": True},
                    "b": {"type": "array", "items": {"type": "string"}},
                },
            },
            {
                "type": "object",
                "required": ["b"],
                "properties": {"a": {}, "b": {"type": "array", "items": {"type": "string"}}},
            },
            {
                "type": "object",
                "required": ["a", "b"],
                "properties": {
                    "a": {"type": "string", "nullable": True},
                    "b": {"type": "array", "items": {"type": "string"}},
                },
            },
        ),
        (
            "an array without items is untyped in v2",
            {"type": "array", "x-kubernetes-preserve-unknown-fields": True},
            {"x-kubernetes-preserve-unknown-fields": True},
            {"type": "array", "x-kubernetes-preserve-unknown-fields": True},
        ),
        (
            "defaults are pruned from v2 only",
            {"type": "string", "default": "main", "description": "branch"},
            {"type": "string", "description": "branch"},
            {"type": "string", "default": "main", "description": "branch"},
        ),
        (
            "junctors are dropped from v2 only; examples from both",
            {
                "type": "integer",
                "anyOf": [{"minimum": 1}],
                "not": {"enum": [3]},
                "example": 2,
                "maximum": 9,
            },
            {"type": "integer", "maximum": 9},
            {"type": "integer", "anyOf": [{"minimum": 1}], "not": {"enum": [3]}, "maximum": 9},
        ),
        (
            "int-or-string stays untyped",
            {"x-kubernetes-int-or-string": True},
            {"x-kubernetes-int-or-string": True},
            {"x-kubernetes-int-or-string": True},
        ),
    ],
)
def test_crd_schema_to_definitions(
    case: str, spec: dict[str, Any], in_v2: dict[str, Any], in_v3: dict[str, Any]
) -> None:
    resource = _widget(spec)
    for v2_form, expected in ((True, in_v2), (False, in_v3)):
        published = definitions.custom_definitions(resource, v2=v2_form)["com.example.v1.Widget"]
        assert published["properties"]["spec"] == expected, (case, v2_form)
        assert set(published["properties"]) == {"spec", *_EMBEDDED_META}


@pytest.mark.parametrize(
    ("case", "resource", "v2_type_only", "v3_type_only"),
    [
        ("non-structural: a node without a type", _widget({"properties": {}}), True, True),
        ("non-structural: an unknown type", _widget({"type": "date"}), True, True),
        (
            "root preserving unknown fields: kubectl would reject them",
            _widget({"type": "object"}, **{"x-kubernetes-preserve-unknown-fields": True}),
            True,
            False,
        ),
    ],
)
def test_unpublishable_schemas_become_plain_objects(
    case: str, resource: ResourceType, v2_type_only: bool, v3_type_only: bool
) -> None:
    gvk = [{"group": "example.com", "kind": "Widget", "version": "v1"}]
    for v2_form, type_only in ((True, v2_type_only), (False, v3_type_only)):
        published = definitions.custom_definitions(resource, v2=v2_form)["com.example.v1.Widget"]
        plain = published == {"type": "object", "x-kubernetes-group-version-kind": gvk}
        assert plain == type_only, (case, v2_form)


def test_embedded_resources_get_type_and_object_meta() -> None:
    embedded = {"type": "object", "x-kubernetes-embedded-resource": True}
    opaque = {**embedded, "x-kubernetes-preserve-unknown-fields": True}
    resource = _widget({"type": "object", "properties": {"pod": embedded, "raw": opaque}})
    for v2_form in (True, False):
        spec = definitions.custom_definitions(resource, v2=v2_form)["com.example.v1.Widget"]
        fields = spec["properties"]["spec"]["properties"]
        assert set(fields["pod"]["properties"]) == _EMBEDDED_META
        assert fields["pod"]["required"] == ["kind", "apiVersion"]
        # v2 adds nothing where unknown fields are kept: kubectl would then refuse them.
        assert ("properties" in fields["raw"]) is not v2_form


def test_builtin_definitions_are_kubernetes_1_37() -> None:
    shipped = builtin_openapi.SHIPPED.read_text(encoding="utf-8")
    assert shipped == builtin_openapi.render(), (
        "regenerate with: .venv/bin/python -m tests.emulators.kube.builtin_openapi"
    )
    served = json.loads(shipped)
    for name in ("io.k8s.api.core.v1.ConfigMap", "io.k8s.api.coordination.v1.Lease"):
        assert "enum" not in served[name]["properties"]["kind"]
