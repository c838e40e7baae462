"""Patches: the three formats, unit-tested and then through the kubernetes client.

Covers: JSON merge patch (RFC 7386: nested merge, null deletes, lists replace);
JSON patch (RFC 6902: add/remove/replace/move/copy/test, ``-`` append, ``~1``
escapes, a failing ``test`` aborting the whole patch with 422 and no change);
strategic merge patch on built-in kinds (merge, ``$patch: replace``/``delete``,
``$retainKeys``, finalizers as a set) and 415 for custom resources, as the real
server answers; bodies that do not parse → 400.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator, patches
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, Http, coderun

DOC = {
    "metadata": {"labels": {"a": "1", "b": "2"}, "finalizers": ["x"]},
    "spec": {"list": [1, 2, 3], "n": 1},
}


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"metadata": {"labels": {"a": None, "c": "3"}}}, {"a": None, "b": "2", "c": "3"}),
        ({"spec": {"list": [9]}}, {"list": [9], "n": 1}),
        ({"spec": None}, None),
    ],
)
def test_merge_patch(patch: dict[str, Any], expected: Any) -> None:
    result = patches.merge_patch(DOC, patch)
    if "metadata" in patch:
        expected = {k: v for k, v in expected.items() if v is not None}
        assert result["metadata"]["labels"] == expected
    elif expected is None:
        assert "spec" not in result
    else:
        assert result["spec"] == expected
    assert DOC["metadata"]["labels"] == {"a": "1", "b": "2"}


def test_json_patch_operations() -> None:
    result = patches.json_patch(
        {"a": {"b/c": 1}, "list": [1, 2]},
        [
            {"op": "test", "path": "/a/b~1c", "value": 1},
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "add", "path": "/list/0", "value": 0},
            {"op": "replace", "path": "/a/b~1c", "value": 2},
            {"op": "copy", "from": "/a", "path": "/copied"},
            {"op": "move", "from": "/copied", "path": "/moved"},
            {"op": "remove", "path": "/list/1"},
        ],
    )
    assert result == {"a": {"b/c": 2}, "list": [0, 2, 3], "moved": {"b/c": 2}}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "test", "path": "/n", "value": 2},
        {"op": "test", "path": "/n", "value": True},
        {"op": "remove", "path": "/missing"},
        {"op": "replace", "path": "/missing", "value": 1},
        {"op": "add", "path": "/list/9", "value": 1},
        {"op": "frobnicate", "path": "/n"},
    ],
)
def test_json_patch_failures(operation: dict[str, Any]) -> None:
    with pytest.raises(patches.PatchError):
        patches.json_patch({"n": 1, "list": []}, [operation])


def test_strategic_merge_subset() -> None:
    base = {"metadata": {"finalizers": ["a"], "labels": {"x": "1"}}, "data": {"k": "v", "old": "o"}}
    merged = patches.strategic_merge_patch(
        base,
        {
            "metadata": {"finalizers": ["b", "a"], "$setElementOrder/finalizers": ["a", "b"]},
            "data": {"$patch": "replace", "new": "n"},
        },
    )
    assert merged["metadata"]["finalizers"] == ["a", "b"]
    assert merged["data"] == {"new": "n"}
    retained = patches.strategic_merge_patch(base, {"data": {"$retainKeys": ["k"], "k": "w"}})
    assert retained["data"] == {"k": "w"}
    removed = patches.strategic_merge_patch(
        base, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    )
    assert removed["metadata"]["finalizers"] == []
    deleted = patches.strategic_merge_patch(base, {"data": {"$patch": "delete"}})
    assert "data" not in deleted


def test_patch_types_over_http(core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map(
        "default", {"metadata": {"name": "p", "finalizers": ["a.io/x"]}, "data": {"k": "v"}}
    )
    smp = core.patch_namespaced_config_map("p", "default", {"metadata": {"finalizers": ["b.io/y"]}})
    assert smp.metadata.finalizers == ["a.io/x", "b.io/y"]
    merge = core.patch_namespaced_config_map(
        "p",
        "default",
        {"metadata": {"finalizers": ["c.io/z"]}},
        _content_type="application/merge-patch+json",
    )
    assert merge.metadata.finalizers == ["c.io/z"]
    jsonpatch = core.patch_namespaced_config_map(
        "p",
        "default",
        [
            {"op": "add", "path": "/data/k2", "value": "v2"},
            {"op": "remove", "path": "/metadata/finalizers"},
        ],
    )
    assert jsonpatch.data == {"k": "v", "k2": "v2"} and not jsonpatch.metadata.finalizers


def test_failed_json_patch_test_changes_nothing(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    """A ``test`` op that fails aborts the whole patch (RFC 6902 §5); the apiserver
    answers 422 with its generic message."""
    kube.apply(coderun("guarded"))
    before = kube.get("agents.platform/v1", "CodeRun", "guarded")
    with pytest.raises(ApiException) as invalid:
        custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "guarded",
            [
                {"op": "replace", "path": "/spec/model", "value": "changed"},
                {"op": "test", "path": "/metadata/labels/github-app", "value": "5DLabs-Tess"},
            ],
            _content_type="application/json-patch+json",
        )
    body = json.loads(invalid.value.body)
    assert (invalid.value.status, body["reason"]) == (422, "Invalid")
    assert body["message"] == "the server rejected our request due to an error in our request"
    assert kube.get("agents.platform/v1", "CodeRun", "guarded") == before


def test_json_patch_test_guards_a_cancel(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.apply(coderun("run"))
    patched = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "run",
        [
            {"op": "test", "path": "/metadata/labels/github-app", "value": "5DLabs-Cleo"},
            {
                "op": "add",
                "path": "/metadata/annotations",
                "value": {"remedy.dev/cancel-requested-at": "now"},
            },
        ],
        _content_type="application/json-patch+json",
    )
    assert patched["metadata"]["annotations"] == {"remedy.dev/cancel-requested-at": "now"}


def test_strategic_merge_on_custom_resource_is_415(http: Http, kube: KubeEmulator) -> None:
    kube.apply(coderun("cr"))
    answer = http(
        "PATCH",
        "/apis/agents.platform/v1/namespaces/default/coderuns/cr",
        data=json.dumps({"spec": {"model": "x"}}),
        headers={"Content-Type": "application/strategic-merge-patch+json"},
    )
    assert answer.status_code == 415
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": "the body of the request was in an unknown format - accepted media types "
        "include: application/json-patch+json, application/merge-patch+json, "
        "application/apply-patch+yaml",
        "reason": "UnsupportedMediaType",
        "code": 415,
    }


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/merge-patch+json", "{not json"),
        ("application/json-patch+json", '{"op": "add"}'),
    ],
)
def test_unparseable_patches_are_bad_requests(
    http: Http, kube: KubeEmulator, content_type: str, body: str
) -> None:
    kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}})
    answer = http(
        "PATCH",
        "/api/v1/namespaces/default/configmaps/cm",
        data=body,
        headers={"Content-Type": content_type},
    )
    assert answer.status_code == 400
    assert answer.json()["reason"] == "BadRequest"


def test_server_side_apply_creates_then_updates(http: Http) -> None:
    path = "/api/v1/namespaces/default/configmaps/applied?fieldManager=test"
    manifest = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  a: '1'\n"
    created = http(
        "PATCH", path, data=manifest, headers={"Content-Type": "application/apply-patch+yaml"}
    )
    assert created.status_code == 201
    updated = http(
        "PATCH",
        path,
        data=manifest.replace("'1'", "'2'"),
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert (updated.status_code, updated.json()["data"]) == (200, {"a": "2"})
    missing_manager = http(
        "PATCH",
        path.split("?", maxsplit=1)[0],
        data=manifest,
        headers={"Content-Type": "application/apply-patch+yaml"},
    )
    assert missing_manager.status_code == 422
