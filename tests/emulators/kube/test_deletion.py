"""Deletion: preconditions, finalizers, propagation, namespaces, CRDs, collections.

Covers: uid and resourceVersion preconditions (409 with the real "Precondition
failed" text, nothing deleted); an object with finalizers getting deletionTimestamp
and staying until an update removes the last finalizer (then one DELETED event); no
new finalizers on an object being deleted; gracePeriodSeconds recorded;
propagationPolicy Background, Foreground and Orphan on ownerReferences; a namespace
going Terminating, refusing new content and disappearing once empty; a CRD's
deletion removing its resources and its API; deletecollection by label; the Status
answer of a completed delete.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, Http, coderun

CODERUN = "agents.platform/v1", "CodeRun"


def _names(kube: KubeEmulator, namespace: str = "default") -> list[str]:
    return [item["metadata"]["name"] for item in kube.list(*CODERUN, namespace)]


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("uid", "Precondition failed: UID in precondition: wrong, UID in object meta: {uid}"),
        (
            "resourceVersion",
            "Precondition failed: ResourceVersion in precondition: wrong, "
            "ResourceVersion in object meta: {rv}",
        ),
    ],
)
def test_delete_preconditions(
    kube: KubeEmulator, custom: client.CustomObjectsApi, field: str, message: str
) -> None:
    created = kube.apply(coderun("guarded"))
    with pytest.raises(ApiException) as conflict:
        custom.delete_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL, "guarded", body={"preconditions": {field: "wrong"}}
        )
    body = json.loads(conflict.value.body)
    expected = message.format(
        uid=created["metadata"]["uid"], rv=created["metadata"]["resourceVersion"]
    )
    assert (conflict.value.status, body["reason"]) == (409, "Conflict")
    assert (
        body["message"]
        == f'Operation cannot be fulfilled on coderuns.agents.platform "guarded": {expected}'
    )
    assert _names(kube) == ["guarded"]
    custom.delete_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "guarded",
        body={
            "preconditions": {
                "uid": created["metadata"]["uid"],
                "resourceVersion": created["metadata"]["resourceVersion"],
            }
        },
    )
    assert _names(kube) == []


def test_finalizers_hold_deletion(kube: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    """Graceful deletion with finalizers (api-concepts "Finalizers"): DELETE sets
    deletionTimestamp; the object remains until its finalizers list is empty."""
    manifest = coderun("held")
    manifest["metadata"]["finalizers"] = ["remedy.dev/cleanup"]
    kube.apply(manifest)
    answer = custom.delete_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "held", grace_period_seconds=30
    )
    assert answer["kind"] == "CodeRun"
    assert answer["metadata"]["deletionTimestamp"]
    assert answer["metadata"]["deletionGracePeriodSeconds"] == 30
    assert _names(kube) == ["held"]
    with pytest.raises(ApiException) as forbidden:
        custom.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            "held",
            {"metadata": {"finalizers": ["remedy.dev/cleanup", "new.io/x"]}},
        )
    assert forbidden.value.status == 422
    assert (
        "no new finalizers can be added if the object is being deleted"
        in json.loads(forbidden.value.body)["message"]
    )
    before = kube.store.resource_version
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "held", {"metadata": {"finalizers": None}}
    )
    assert _names(kube) == []
    events = kube.store.events_after(before, (GROUP, PLURAL))
    assert [event.type for event in events] == ["DELETED"]


def test_completed_delete_answers_status(kube: KubeEmulator, http: Http) -> None:
    created = kube.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "gone"}})
    answer = http("DELETE", "/api/v1/namespaces/default/configmaps/gone")
    assert answer.status_code == 200
    assert answer.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "gone", "kind": "configmaps", "uid": created["metadata"]["uid"]},
    }


def _owned(name: str, owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "ownerReferences": [
                {
                    "apiVersion": "agents.platform/v1",
                    "kind": "CodeRun",
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                }
            ],
        },
    }


@pytest.mark.parametrize(
    ("policy", "dependent_left"), [("Background", False), ("Foreground", False), ("Orphan", True)]
)
def test_propagation_policy(
    kube: KubeEmulator, custom: client.CustomObjectsApi, policy: str, dependent_left: bool
) -> None:
    owner = kube.apply(coderun("owner"))
    kube.apply(_owned("prompt", owner))
    custom.delete_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "owner", propagation_policy=policy
    )
    remaining = kube.list("v1", "ConfigMap")
    assert [cm["metadata"]["name"] for cm in remaining] == (["prompt"] if dependent_left else [])
    if dependent_left:
        assert "ownerReferences" not in remaining[0]["metadata"]


def test_only_current_dependents_in_the_owners_namespace_are_collected(
    kube: KubeEmulator, core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    owner = kube.apply(coderun("owner"))
    kube.apply(_owned("prompt", owner))
    kube.apply(_owned("released", owner))
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "elsewhere"}})
    kube.apply({**_owned("other-ns", owner), "metadata": {
        **_owned("other-ns", owner)["metadata"], "namespace": "elsewhere"}})  # fmt: skip
    core.patch_namespaced_config_map(
        "released", "default", {"metadata": {"ownerReferences": None}}
    )  # its owner let it go: no longer a dependent
    custom.delete_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "owner")
    listed = kube.list("v1", "ConfigMap", namespace=None)
    left = {(cm["metadata"]["namespace"], cm["metadata"]["name"]) for cm in listed}
    assert left == {("default", "released"), ("elsewhere", "other-ns")}


def test_bad_propagation_policy_is_invalid(kube: KubeEmulator, http: Http) -> None:
    kube.apply(coderun("x"))
    answer = http(
        "DELETE",
        "/apis/agents.platform/v1/namespaces/default/coderuns/x",
        json={"propagationPolicy": "Sideways"},
    )
    assert answer.status_code == 422
    assert 'propagationPolicy: Unsupported value: "Sideways"' in answer.json()["message"]
    assert _names(kube) == ["x"]


def test_namespace_termination(kube: KubeEmulator, core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "team"}})
    core.create_namespaced_config_map("team", {"metadata": {"name": "plain"}})
    core.create_namespaced_config_map(
        "team", {"metadata": {"name": "held", "finalizers": ["a.io/b"]}}
    )
    core.delete_namespace("team")
    terminating = core.read_namespace("team")
    assert terminating.status.phase == "Terminating" and terminating.metadata.deletion_timestamp
    assert [cm.metadata.name for cm in core.list_namespaced_config_map("team").items] == ["held"]
    with pytest.raises(ApiException) as forbidden:
        core.create_namespaced_config_map("team", {"metadata": {"name": "late"}})
    body = json.loads(forbidden.value.body)
    assert (forbidden.value.status, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (
        'configmaps "late" is forbidden: unable to create new content in '
        "namespace team because it is being terminated"
    )
    core.patch_namespaced_config_map(
        "held",
        "team",
        {"metadata": {"finalizers": None}},
        _content_type="application/merge-patch+json",
    )
    with pytest.raises(ApiException) as gone:
        core.read_namespace("team")
    assert gone.value.status == 404


def test_crd_deletion_removes_resources_and_api(kube: KubeEmulator, api: client.ApiClient) -> None:
    kube.apply(coderun("doomed"))
    client.ApiextensionsV1Api(api).delete_custom_resource_definition("coderuns.agents.platform")
    groups = {group.name for group in client.ApisApi(api).get_api_versions().groups}
    assert "agents.platform" not in groups
    assert kube.store.items((GROUP, PLURAL)) == []
    with pytest.raises(ApiException) as missing:
        client.CustomObjectsApi(api).list_namespaced_custom_object(
            GROUP, VERSION, "default", PLURAL
        )
    assert missing.value.status == 404


def test_delete_collection_by_label(kube: KubeEmulator, custom: client.CustomObjectsApi) -> None:
    for name, task in (("a", 3), ("b", 3), ("c", 4)):
        kube.apply(coderun(name, task=task))
    custom.delete_collection_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, label_selector="task-id=3"
    )
    assert _names(kube) == ["c"]
