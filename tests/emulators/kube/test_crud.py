"""CRUD through the official kubernetes client, over HTTPS.

Covers: create/get/list/update/patch/delete of ConfigMaps, Namespaces, Leases,
Events, CRDs and CodeRuns; resourceVersion strictly increasing on every write and
unchanged by a no-op write; stale resourceVersion → 409 Conflict; duplicate name →
409 AlreadyExists; missing → 404 NotFound (object, namespace); PUT of a custom
resource without resourceVersion → 422; generateName; dryRun; the status
subresource splitting spec from status; metadata.generation; objects seeded
through ``KubeEmulator.cluster`` are the ones clients read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import GROUP, PLURAL, VERSION, coderun


def _status(error: ApiException) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(error.body)
    return body


def _create_run(custom: client.CustomObjectsApi, name: str, **kwargs: Any) -> dict[str, Any]:
    created: dict[str, Any] = custom.create_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, coderun(name, **kwargs)
    )
    return created


def test_configmap_lifecycle_bumps_resource_version(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        "default", {"metadata": {"name": "settings"}, "data": {"a": "1"}}
    )
    assert created.metadata.uid and created.metadata.creation_timestamp
    first = int(created.metadata.resource_version)
    created.data["b"] = "2"
    replaced = core.replace_namespaced_config_map("settings", "default", created)
    patched = core.patch_namespaced_config_map("settings", "default", {"data": {"c": "3"}})
    versions = [
        first,
        int(replaced.metadata.resource_version),
        int(patched.metadata.resource_version),
    ]
    assert versions == sorted(set(versions))
    assert core.read_namespaced_config_map("settings", "default").data == {
        "a": "1",
        "b": "2",
        "c": "3",
    }
    core.delete_namespaced_config_map("settings", "default")
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("settings", "default")
    assert missing.value.status == 404


def test_resource_version_is_global_and_increasing(
    kube: KubeEmulator, core: client.CoreV1Api
) -> None:
    """resourceVersion is opaque to clients but, like etcd's revision, one counter
    across all kinds: every write gets a larger one (api-concepts#resource-versions)."""
    seen = []
    for index in range(3):
        cm = core.create_namespaced_config_map("default", {"metadata": {"name": f"c{index}"}})
        seen.append(int(cm.metadata.resource_version))
        lease = client.CoordinationV1Api(core.api_client).create_namespaced_lease(
            "default", {"metadata": {"name": f"l{index}"}, "spec": {"holderIdentity": "me"}}
        )
        seen.append(int(lease.metadata.resource_version))
    assert seen == sorted(set(seen))
    listed = core.list_namespaced_config_map("default")
    assert int(listed.metadata.resource_version) == kube.store.resource_version


def test_noop_update_keeps_resource_version(core: client.CoreV1Api) -> None:
    """A write that changes nothing is not stored again: etcd sees no new revision."""
    created = core.create_namespaced_config_map(
        "default", {"metadata": {"name": "same"}, "data": {"a": "1"}}
    )
    again = core.patch_namespaced_config_map("same", "default", {"data": {"a": "1"}})
    assert again.metadata.resource_version == created.metadata.resource_version


def test_stale_update_conflicts(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        "default", {"metadata": {"name": "cas"}, "data": {"v": "1"}}
    )
    core.patch_namespaced_config_map("cas", "default", {"data": {"v": "2"}})
    created.data["v"] = "stale"
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("cas", "default", created)
    status = _status(conflict.value)
    assert conflict.value.status == 409
    assert status["kind"] == "Status" and status["reason"] == "Conflict"
    assert status["message"] == (
        'Operation cannot be fulfilled on configmaps "cas": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )
    assert core.read_namespaced_config_map("cas", "default").data == {"v": "2"}


def test_patch_carrying_stale_resource_version_conflicts(custom: client.CustomObjectsApi) -> None:
    """A merge patch that sets metadata.resourceVersion is a precondition: the patched
    object's version must still be the stored one (api-conventions#concurrency-control)."""
    created = _create_run(custom, "run-a")
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, "default", PLURAL, "run-a", {"spec": {"model": "m2"}}
    )
    stale = {
        "metadata": {"resourceVersion": created["metadata"]["resourceVersion"]},
        "spec": {"model": "m3"},
    }
    with pytest.raises(ApiException) as conflict:
        custom.patch_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "run-a", stale)
    assert conflict.value.status == 409
    assert _status(conflict.value)["details"] == {"name": "run-a", "group": GROUP, "kind": PLURAL}
    current = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "run-a")
    assert current["spec"]["model"] == "m2"


def test_create_existing_name_is_already_exists(custom: client.CustomObjectsApi) -> None:
    _create_run(custom, "dup")
    with pytest.raises(ApiException) as exists:
        _create_run(custom, "dup")
    status = _status(exists.value)
    assert (exists.value.status, status["reason"]) == (409, "AlreadyExists")
    assert status["message"] == 'coderuns.agents.platform "dup" already exists'


def test_missing_object_and_namespace_are_not_found(
    core: client.CoreV1Api, custom: client.CustomObjectsApi
) -> None:
    with pytest.raises(ApiException) as missing:
        custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "ghost")
    assert _status(missing.value)["message"] == 'coderuns.agents.platform "ghost" not found'
    with pytest.raises(ApiException) as no_namespace:
        core.create_namespaced_config_map("nowhere", {"metadata": {"name": "x"}})
    assert no_namespace.value.status == 404
    assert _status(no_namespace.value)["message"] == 'namespaces "nowhere" not found'


def test_update_of_custom_resource_requires_resource_version(
    custom: client.CustomObjectsApi,
) -> None:
    """Custom resources do not allow unconditional updates (AllowUnconditionalUpdate
    is false in the apiextensions strategy)."""
    body = _create_run(custom, "cond")
    del body["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as invalid:
        custom.replace_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "cond", body)
    assert invalid.value.status == 422
    assert (
        "metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        in (_status(invalid.value)["message"])
    )


def test_generate_name(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}})
    second = core.create_namespaced_config_map("default", {"metadata": {"generateName": "job-"}})
    assert first.metadata.name.startswith("job-") and len(first.metadata.name) == len("job-") + 5
    assert first.metadata.name != second.metadata.name


def test_dry_run_stores_nothing(kube: KubeEmulator, core: client.CoreV1Api) -> None:
    before = kube.store.resource_version
    answer = core.create_namespaced_config_map(
        "default", {"metadata": {"name": "dry"}}, dry_run="All"
    )
    assert answer.metadata.name == "dry"
    assert kube.store.resource_version == before
    with pytest.raises(ApiException):
        core.read_namespaced_config_map("dry", "default")


def test_status_subresource_splits_spec_and_status(custom: client.CustomObjectsApi) -> None:
    """With a status subresource, writes to the main resource ignore status and writes
    to /status ignore everything else (CRD docs, "Status subresource")."""
    manifest = coderun("split")
    manifest["status"] = {"phase": "Succeeded"}
    created = custom.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, manifest)
    assert "status" not in created
    assert created["metadata"]["generation"] == 1

    status = custom.patch_namespaced_custom_object_status(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "split",
        {"status": {"phase": "Running"}, "spec": {"model": "x"}},
    )
    assert status["status"] == {"phase": "Running"}
    assert status["spec"]["model"] == "claude-sonnet"
    assert status["metadata"]["generation"] == 1

    main = custom.patch_namespaced_custom_object(
        GROUP,
        VERSION,
        "default",
        PLURAL,
        "split",
        {"status": {"phase": "Failed"}, "spec": {"model": "y"}},
    )
    assert main["status"] == {"phase": "Running"}
    assert main["spec"]["model"] == "y"
    assert main["metadata"]["generation"] == 2


def test_workflow_keeps_status_in_main_resource(custom: client.CustomObjectsApi) -> None:
    """Argo's Workflow CRD has no status subresource: status is written with the object."""
    workflow = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": "play-3"},
        "spec": {"suspend": True, "templates": [{"name": "main", "suspend": {}}]},
        "status": {
            "phase": "Running",
            "nodes": {"play-3": {"type": "Suspend", "phase": "Running"}},
        },
    }
    created = custom.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "default", "workflows", workflow
    )
    assert created["status"]["phase"] == "Running"
    assert created["spec"]["templates"][0]["suspend"] == {}
    with pytest.raises(ApiException) as no_status:
        custom.patch_namespaced_custom_object_status(
            "argoproj.io", "v1alpha1", "default", "workflows", "play-3", {"status": {}}
        )
    assert no_status.value.status == 404


def test_events_and_leases(core: client.CoreV1Api, api: client.ApiClient) -> None:
    event = core.create_namespaced_event(
        "default",
        {
            "metadata": {"name": "run.1"},
            "involvedObject": {"kind": "CodeRun", "name": "run", "namespace": "default"},
            "reason": "Cancelled",
            "message": "superseded by a push",
            "type": "Normal",
        },
    )
    assert event.reason == "Cancelled"
    listed = core.list_namespaced_event("default", field_selector="involvedObject.name=run")
    assert [item.metadata.name for item in listed.items] == ["run.1"]
    leases = client.CoordinationV1Api(api)
    lease = leases.create_namespaced_lease(
        "default", {"metadata": {"name": "task-3"}, "spec": {"holderIdentity": "a"}}
    )
    lease.spec.holder_identity = "b"
    assert leases.replace_namespaced_lease("task-3", "default", lease).spec.holder_identity == "b"


def test_namespaces_are_cluster_scoped(core: client.CoreV1Api) -> None:
    created = core.create_namespace({"metadata": {"name": "team-a"}})
    assert created.status.phase == "Active"
    assert created.metadata.namespace is None
    names = {item.metadata.name for item in core.list_namespace().items}
    assert {"default", "kube-system", "team-a"} <= names


def test_list_across_namespaces_and_pages(core: client.CoreV1Api) -> None:
    core.create_namespace({"metadata": {"name": "other"}})
    for namespace in ("default", "other"):
        for index in range(3):
            core.create_namespaced_config_map(namespace, {"metadata": {"name": f"cm-{index}"}})
    everything = core.list_config_map_for_all_namespaces()
    assert [(i.metadata.namespace, i.metadata.name) for i in everything.items] == [
        (ns, f"cm-{i}") for ns in ("default", "other") for i in range(3)
    ]
    first = core.list_config_map_for_all_namespaces(limit=4)
    assert len(first.items) == 4 and first.metadata._continue
    rest = core.list_config_map_for_all_namespaces(limit=4, _continue=first.metadata._continue)
    assert [i.metadata.name for i in first.items + rest.items] == [
        i.metadata.name for i in everything.items
    ]
    assert not rest.metadata._continue


def test_seeded_objects_are_what_clients_see(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.apply(coderun("seeded"))
    fetched = custom.get_namespaced_custom_object(GROUP, VERSION, "default", PLURAL, "seeded")
    assert (
        fetched["metadata"]["uid"]
        == kube.get("agents.platform/v1", "CodeRun", "seeded")["metadata"]["uid"]
    )
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, "default", PLURAL, "seeded", {"status": {"phase": "Running"}}
    )
    assert kube.get("agents.platform/v1", "CodeRun", "seeded")["status"] == {"phase": "Running"}


def test_custom_resource_definition_crud(api: client.ApiClient) -> None:
    extensions = client.ApiextensionsV1Api(api)
    names = {crd.metadata.name for crd in extensions.list_custom_resource_definition().items}
    assert {"coderuns.agents.platform", "workflows.argoproj.io"} <= names
    crd = extensions.read_custom_resource_definition("coderuns.agents.platform")
    conditions = {c.type: c.status for c in crd.status.conditions}
    assert conditions == {"NamesAccepted": "True", "Established": "True"}
    assert crd.spec.names.short_names == ["cr"]
