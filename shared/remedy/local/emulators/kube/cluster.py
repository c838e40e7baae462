"""The emulated cluster's verbs: the generic registry of the apiserver, in memory.

:class:`Cluster` is what both the HTTP API and tests call: ``create``, ``get``,
``list``, ``update``, ``patch`` (and, from :mod:`lifecycle`, ``delete``) with the real
server's semantics: namespaces must exist and not be terminating, names collide with
409 AlreadyExists, updates and patches that carry a stale ``resourceVersion`` get 409
Conflict, custom resources need a ``resourceVersion`` on PUT, a write that changes
nothing does not bump the ``resourceVersion``, and CRDs register their types. Objects
are written in the storage version and read back in the request's (``versions``). It
works on the same :class:`~remedy.local.emulators.kube.store.Store` the server serves, so
objects seeded here are exactly what clients see over HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from remedy.local.emulators.kube import (
    crds,
    errors,
    lifecycle,
    objects,
    paging,
    patches,
    patching,
    versions,
)
from remedy.local.emulators.kube.fields import FieldSelector
from remedy.local.emulators.kube.resources import Registry, ResourceType
from remedy.local.emulators.kube.selectors import LabelSelector
from remedy.local.emulators.kube.store import Store, Stored

NAMESPACES = ("", "namespaces")
CRDS = ("apiextensions.k8s.io", "customresourcedefinitions")
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@dataclass(frozen=True)
class Written:
    """The outcome of a write: the object to answer with, and how to answer."""

    stored: Stored
    created: bool = False
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Listing:
    items: list[Stored]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None


class Cluster:
    def __init__(self, store: Store | None = None, registry: Registry | None = None) -> None:
        self.store = store or Store()
        self.registry = registry or Registry()
        namespaces = self.resource("v1", "Namespace")
        for name in DEFAULT_NAMESPACES:
            if self.store.get(NAMESPACES, "", name) is None:
                self.create(namespaces, "", {"metadata": {"name": name}})

    # --- lookups ------------------------------------------------------------------

    def resource(self, api_version: str, kind: str) -> ResourceType:
        found = self.registry.by_kind(api_version, kind)
        if found is None:
            raise errors.ApiError(
                404, "NotFound", f'no matches for kind "{kind}" in version "{api_version}"'
            )
        return found

    def get(self, resource: ResourceType, namespace: str, name: str) -> Stored:
        stored = self.store.get(resource.storage_key, _ns(resource, namespace), name)
        if stored is None:
            raise errors.not_found(resource.group, resource.plural, name)
        return stored

    def list(
        self,
        resource: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None = None,
        fields: FieldSelector | None = None,
        limit: int = 0,
        continue_token: str = "",
    ) -> Listing:
        with self.store.lock:
            rv = self.store.resource_version
            records = self.store.items(resource.storage_key, namespace or None)
        start = paging.decode(continue_token) if continue_token else None
        selected = []
        for record in records:
            if start is not None and (record.namespace, record.name) < start:
                continue
            if labels is not None and not labels.matches(record.labels):
                continue
            if fields is not None and not fields.matches(record.obj):
                continue
            selected.append(record)
        if limit and len(selected) > limit:
            following = selected[limit]
            token = paging.encode(rv, (following.namespace, following.name))
            return Listing(selected[:limit], rv, token, len(selected) - limit)
        return Listing(selected, rv)

    # --- create -------------------------------------------------------------------

    def create(
        self,
        resource: ResourceType,
        namespace: str,
        body: Any,
        *,
        dry_run: bool = False,
        field_validation: str = "",
        raw: str = "",
    ) -> Written:
        body = objects.check_type(resource, body, raw)
        objects.check_namespace(resource, body, namespace)
        body, decoded = versions.to_storage(resource, body, field_validation=field_validation)
        with self.store.lock:
            self._require_namespace(resource, body)
            if (resource.group, resource.plural) == CRDS:
                crds.default_crd(body)
            for _ in range(8):
                # A generated name that collides is drawn again, as the server retries.
                candidate = dict(body, metadata=dict(body["metadata"]))
                warnings = objects.prepare_create(
                    resource, candidate, field_validation=field_validation
                )
                name = candidate["metadata"]["name"]
                existing = self.store.get(resource.storage_key, _ns(resource, namespace), name)
                if (
                    existing is None
                    or not body["metadata"].get("generateName")
                    or body["metadata"].get("name")
                ):
                    break
            if existing is not None:
                raise errors.already_exists(resource.group, resource.plural, name)
            if (resource.group, resource.plural) == CRDS:
                self._check_crd(candidate)
            warnings = decoded + warnings
            if dry_run:
                return Written(Stored.of(candidate), created=True, warnings=tuple(warnings))
            stored = self.store.put(resource.storage_key, candidate, event="ADDED")
            if (resource.group, resource.plural) == CRDS:
                self.registry.replace_owned(stored.name, crds.served_types(stored.obj))
            return Written(stored, created=True, warnings=tuple(warnings))

    def _require_namespace(self, resource: ResourceType, body: dict[str, Any]) -> None:
        if not resource.namespaced:
            return
        namespace = body["metadata"]["namespace"]
        found = self.store.get(NAMESPACES, "", namespace)
        if found is None:
            raise errors.not_found("", "namespaces", namespace)
        if found.metadata.get("deletionTimestamp"):
            raise errors.forbidden(
                group=resource.group,
                plural=resource.plural,
                name=body["metadata"].get("name") or "",
                why=f"unable to create new content in namespace {namespace} because it is being "
                "terminated",
            )

    def _check_crd(self, body: dict[str, Any]) -> None:
        found = crds.validate_crd(body)
        if found:
            raise crds.crd_invalid(body["metadata"].get("name", ""), found)
        body["status"] = crds.established_status(body)

    # --- update and patch ---------------------------------------------------------

    def update(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        body: Any,
        *,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: str = "",
        raw: str = "",
    ) -> Written:
        body = objects.check_type(resource, body, raw)
        if body["metadata"].get("name") != name:
            raise errors.bad_request(
                f"the name of the object ({body['metadata'].get('name', '')}) does not match "
                f"the name on the URL ({name})"
            )
        objects.check_namespace(resource, body, namespace)
        with self.store.lock:
            existing = self.store.get(resource.storage_key, _ns(resource, namespace), name)
            if existing is None:
                if resource.create_on_update and not subresource:
                    return self.create(
                        resource,
                        namespace,
                        body,
                        dry_run=dry_run,
                        field_validation=field_validation,
                    )
                raise errors.not_found(resource.group, resource.plural, name)
            body, decoded = versions.to_storage(resource, body, field_validation=field_validation)
            objects.check_resource_version(resource, body, existing.resource_version)
            written = self._replace(
                resource,
                existing,
                body,
                subresource=subresource,
                dry_run=dry_run,
                field_validation=field_validation,
            )
            return replace(written, warnings=(*decoded, *written.warnings))

    def patch(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        *,
        patch_type: str,
        body: str,
        subresource: str = "",
        dry_run: bool = False,
        field_validation: str = "",
        field_manager: str = "",
    ) -> Written:
        if patch_type not in resource.patch_types:
            raise errors.unsupported_media_type(resource.patch_types)
        document = patching.parse(patch_type, body, field_manager)
        with self.store.lock:
            existing = self.store.get(resource.storage_key, _ns(resource, namespace), name)
            if existing is None:
                if patch_type == "application/apply-patch+yaml" and not subresource:
                    return self.create(
                        resource, namespace, patching.applied_new(document, name), dry_run=dry_run
                    )
                raise errors.not_found(resource.group, resource.plural, name)
            # The patch applies to the object as the request's version shows it.
            current = versions.served(existing.copy(), resource)
            patched = patching.apply(patch_type, current, document)
            patched = objects.check_type(resource, patched, body)
            objects.check_namespace(resource, patched, namespace)
            if patched["metadata"].get("name") != name:
                raise errors.bad_request(
                    f"the name of the object ({patched['metadata'].get('name', '')}) does not "
                    f"match the name on the URL ({name})"
                )
            patched, decoded = versions.to_storage(
                resource, patched, field_validation=field_validation
            )
            objects.check_resource_version(resource, patched, existing.resource_version)
            written = self._replace(
                resource,
                existing,
                patched,
                subresource=subresource,
                dry_run=dry_run,
                field_validation=field_validation,
            )
            return replace(written, warnings=(*decoded, *written.warnings))

    def _replace(
        self,
        resource: ResourceType,
        existing: Stored,
        body: dict[str, Any],
        *,
        subresource: str,
        dry_run: bool,
        field_validation: str,
    ) -> Written:
        warnings = objects.prepare_update(
            resource,
            body,
            existing.copy(),
            subresource=subresource,
            field_validation=field_validation,
        )
        body["metadata"]["resourceVersion"] = existing.metadata["resourceVersion"]
        is_crd = (resource.group, resource.plural) == CRDS
        if is_crd:
            self._check_crd(body)
            body["status"]["conditions"] = existing.obj.get("status", {}).get(
                "conditions", body["status"]["conditions"]
            )
        if patches.json_equal(body, existing.obj):
            return Written(existing, warnings=tuple(warnings))
        if dry_run:
            return Written(Stored.of(body), warnings=tuple(warnings))
        if body["metadata"].get("deletionTimestamp") and not body["metadata"].get("finalizers"):
            # The write that empties the finalizers deletes instead (registry Store.Update):
            # watchers see one DELETED, carrying the object as it was stored.
            return Written(lifecycle.finalize(self, resource, existing), warnings=tuple(warnings))
        stored = self.store.put(resource.storage_key, body, event="MODIFIED")
        if is_crd:
            self.registry.replace_owned(stored.name, crds.served_types(stored.obj))
        return Written(stored, warnings=tuple(warnings))

    # --- convenience for tests and tools ------------------------------------------

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        """Create ``manifest`` or replace the object of that name (an unconditional
        ``kubectl apply``-like write for seeding); returns the object as written, in
        the manifest's version."""
        resource = self.resource(manifest["apiVersion"], manifest["kind"])
        meta = manifest.get("metadata") or {}
        namespace = meta.get("namespace") or ("default" if resource.namespaced else "")
        body = json.loads(json.dumps(manifest))
        with self.store.lock:
            current = self.store.get(
                resource.storage_key, _ns(resource, namespace), meta.get("name", "")
            )
            if current is None:
                return versions.served(
                    self.create(resource, namespace, body).stored.copy(), resource
                )
            body["metadata"]["resourceVersion"] = current.metadata["resourceVersion"]
            written = self.update(resource, namespace, current.name, body)
            if resource.has_status and "status" in manifest:
                body = written.stored.copy()
                body["status"] = manifest["status"]
                written = self.update(resource, namespace, current.name, body, subresource="status")
            return versions.served(written.stored.copy(), resource)

    def delete(
        self, resource: ResourceType, namespace: str, name: str, **options: Any
    ) -> lifecycle.Deleted:
        return lifecycle.delete(self, resource, namespace, name, **options)


def _ns(resource: ResourceType, namespace: str) -> str:
    return namespace if resource.namespaced else ""
