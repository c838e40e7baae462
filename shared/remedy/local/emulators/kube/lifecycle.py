"""Deletion: preconditions, finalizers, namespaces, dependents, CRD cleanup.

The real sequence is asynchronous (the garbage collector and the namespace controller
finish what the DELETE request starts); the emulator finishes it within the request
so tests need not wait, but the states and events are the real ones:

- ``preconditions`` (uid, resourceVersion) that do not match → 409 Conflict.
- An object with finalizers gets ``deletionTimestamp`` (MODIFIED) and stays until an
  update removes the last finalizer; then it is removed (DELETED).
- ``propagationPolicy``: ``Background`` (default) removes dependents (objects whose
  ``ownerReferences`` name the owner's uid) after the owner, ``Foreground`` before it,
  ``Orphan`` strips the owner reference from them instead.
- A namespace turns ``Terminating``, its content is deleted (finalizers honoured), and
  it disappears once empty; nothing new may be created in it meanwhile.
- Deleting a CRD removes its custom resources and unregisters its types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from remedy.local.emulators.kube import errors, objects
from remedy.local.emulators.kube.errors import FieldError
from remedy.local.emulators.kube.resources import ResourceType
from remedy.local.emulators.kube.store import Stored

if TYPE_CHECKING:
    from remedy.local.emulators.kube.cluster import Cluster

PROPAGATION = ("Foreground", "Background", "Orphan")
_NAMESPACES = ("", "namespaces")
_CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")


@dataclass(frozen=True)
class Deleted:
    stored: Stored  # the removed object, or the object now waiting on finalizers
    gone: bool


def delete(
    cluster: Cluster,
    resource: ResourceType,
    namespace: str,
    name: str,
    *,
    preconditions: dict[str, Any] | None = None,
    grace_period: int | None = None,
    propagation: str | None = None,
    dry_run: bool = False,
) -> Deleted:
    if propagation is not None and propagation not in PROPAGATION:
        raise errors.invalid(
            group="meta.k8s.io",
            kind="DeleteOptions",
            name="",
            errors=[
                FieldError(
                    "propagationPolicy",
                    "FieldValueNotSupported",
                    'supported values: "Foreground", "Background", "Orphan"',
                    value=propagation,
                )
            ],
        )
    store = cluster.store
    with store.lock:
        existing = cluster.get(resource, namespace, name)
        _check_preconditions(resource, existing, preconditions or {})
        if dry_run:
            return Deleted(existing, gone=not existing.metadata.get("finalizers"))
        if resource.storage_key == _NAMESPACES:
            return _terminate_namespace(cluster, existing)
        if propagation == "Orphan":
            _orphan(cluster, existing)
        if existing.metadata.get("finalizers"):
            if existing.metadata.get("deletionTimestamp"):
                return Deleted(existing, gone=False)
            body = existing.copy()
            body["metadata"]["deletionTimestamp"] = objects.now()
            body["metadata"]["deletionGracePeriodSeconds"] = grace_period or 0
            marked = store.put(resource.storage_key, body, event="MODIFIED")
            if propagation == "Foreground":
                _delete_dependents(cluster, marked)
            return Deleted(marked, gone=False)
        if propagation == "Foreground":
            _delete_dependents(cluster, existing)
        return Deleted(
            finalize(cluster, resource, existing, cascade=propagation != "Orphan"), gone=True
        )


def finalize(
    cluster: Cluster, resource: ResourceType, stored: Stored, *, cascade: bool = True
) -> Stored:
    """Remove an object for good, then whatever depended on it."""
    store = cluster.store
    with store.lock:
        if resource.storage_key == _CRDS:
            _drop_custom_resources(cluster, stored)
        final = store.remove(resource.storage_key, stored)
        if cascade:
            _delete_dependents(cluster, final)
        if resource.namespaced:
            _finish_namespace(cluster, stored.namespace)
        return final


def delete_collection(
    cluster: Cluster, resource: ResourceType, records: list[Stored], **options: Any
) -> list[Stored]:
    deleted = []
    for record in records:
        try:
            deleted.append(
                delete(cluster, resource, record.namespace, record.name, **options).stored
            )
        except errors.ApiError as error:
            if error.code != 404:
                raise
    return deleted


def _check_preconditions(
    resource: ResourceType, existing: Stored, preconditions: dict[str, Any]
) -> None:
    meta = existing.metadata
    uid, rv = preconditions.get("uid"), preconditions.get("resourceVersion")
    if uid and uid != meta.get("uid"):
        why = (
            f"Precondition failed: UID in precondition: {uid}, "
            f"UID in object meta: {meta.get('uid')}"
        )
        raise errors.conflict(resource.group, resource.plural, existing.name, why)
    if rv and rv != meta.get("resourceVersion"):
        why = (
            f"Precondition failed: ResourceVersion in precondition: {rv}, "
            f"ResourceVersion in object meta: {meta.get('resourceVersion')}"
        )
        raise errors.conflict(resource.group, resource.plural, existing.name, why)


def _dependents(cluster: Cluster, owner: Stored) -> list[tuple[ResourceType, Stored]]:
    uid = owner.metadata.get("uid")
    found = []
    for (group, plural), record in cluster.store.owned_by(str(uid)) if uid else []:
        resource = cluster.registry.storage_version(group, plural)
        if resource is None:
            continue
        # a namespaced owner's namespaced dependents live in its own namespace
        if owner.namespace and resource.namespaced and record.namespace != owner.namespace:
            continue
        found.append((resource, record))
    return found


def _delete_dependents(cluster: Cluster, owner: Stored) -> None:
    for resource, record in _dependents(cluster, owner):
        try:
            delete(cluster, resource, record.namespace, record.name, propagation="Background")
        except errors.ApiError as error:
            if error.code != 404:
                raise


def _orphan(cluster: Cluster, owner: Stored) -> None:
    uid = owner.metadata.get("uid")
    for resource, record in _dependents(cluster, owner):
        body = record.copy()
        body["metadata"]["ownerReferences"] = [
            reference
            for reference in body["metadata"]["ownerReferences"]
            if reference.get("uid") != uid
        ]
        if not body["metadata"]["ownerReferences"]:
            del body["metadata"]["ownerReferences"]
        cluster.store.put(resource.storage_key, body, event="MODIFIED")


def _terminate_namespace(cluster: Cluster, existing: Stored) -> Deleted:
    store = cluster.store
    marked = existing
    if not existing.metadata.get("deletionTimestamp"):
        body = existing.copy()
        body["metadata"]["deletionTimestamp"] = objects.now()
        body["metadata"]["deletionGracePeriodSeconds"] = 0
        body["status"] = {"phase": "Terminating"}
        marked = store.put(_NAMESPACES, body, event="MODIFIED")
    for group, plural in store.kinds():
        resource = cluster.registry.storage_version(group, plural)
        if resource is None or not resource.namespaced:
            continue
        for record in store.items((group, plural), existing.name):
            delete(cluster, resource, existing.name, record.name)
    finished = _finish_namespace(cluster, existing.name)
    return Deleted(finished or marked, gone=finished is not None)


def _finish_namespace(cluster: Cluster, namespace: str) -> Stored | None:
    store = cluster.store
    current = store.get(_NAMESPACES, "", namespace)
    if current is None or not current.metadata.get("deletionTimestamp"):
        return None
    if any(store.count(key, namespace) for key in store.kinds() if key != _NAMESPACES):
        return None
    return store.remove(_NAMESPACES, current)


def _drop_custom_resources(cluster: Cluster, crd: Stored) -> None:
    spec = crd.obj.get("spec") or {}
    key = (spec.get("group", ""), (spec.get("names") or {}).get("plural", ""))
    for record in cluster.store.items(key):
        cluster.store.remove(key, record)
    cluster.registry.replace_owned(crd.name, [])
