"""What the emulated API serves: resource types, built-in and registered by CRDs.

A :class:`ResourceType` carries everything the other modules need to treat a kind
the way the real apiserver does: URL names (plural, short names), scope, which
patch types it accepts, whether it has a status subresource, how it tracks
``metadata.generation``, its printer columns and (for custom resources) its schema.
Events are one kind served twice: core ``v1`` (the storage version) and
``events.k8s.io/v1``, stored together (see ``events``). The :class:`Registry` is the
live set; CRDs add and remove entries at run time, so
discovery and routing always read it under its lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

VERBS_ALL = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry (server-side ``kubectl get`` columns)."""

    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    plural: str
    singular: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    has_status: bool = False
    builtin: bool = True
    # metadata.generation is kept by CRs and CRDs, not by ConfigMaps and friends.
    tracks_generation: bool = False
    # Whether PUT without metadata.resourceVersion is allowed (false for CRs).
    unconditional_update: bool = True
    create_on_update: bool = False
    printer_columns: tuple[PrinterColumn, ...] = ()
    schema: Mapping[str, Any] | None = field(default=None, compare=False, hash=False)
    # Whether this version is the one objects are stored in (and named by discovery
    # as preferred); a kind served in two groups is stored under ``stored_as``.
    storage_version: bool = True
    stored_as: tuple[str, str] | None = None

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def storage_key(self) -> tuple[str, str]:
        """Objects live once per (group, plural), whichever version serves them —
        Events once for both of the groups that serve them."""
        return self.stored_as or (self.group, self.plural)

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def patch_types(self) -> list[str]:
        types = ["application/json-patch+json", "application/merge-patch+json"]
        if self.builtin:
            types.append("application/strategic-merge-patch+json")
        types.append("application/apply-patch+yaml")
        return types

    def base_path(self, namespace: str | None) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{root}/namespaces/{namespace}/{self.plural}"
        return f"{root}/{self.plural}"


_AGE = PrinterColumn("Age", "date", ".metadata.creationTimestamp")

BUILTINS: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "namespaces",
        "namespace",
        "Namespace",
        namespaced=False,
        short_names=("ns",),
        has_status=True,
        printer_columns=(PrinterColumn("Status", "string", ".status.phase"), _AGE),
    ),
    ResourceType(
        "",
        "v1",
        "configmaps",
        "configmap",
        "ConfigMap",
        namespaced=True,
        short_names=("cm",),
        printer_columns=(PrinterColumn("Data", "integer", "@data"), _AGE),
    ),
    ResourceType(
        "",
        "v1",
        "secrets",
        "secret",
        "Secret",
        namespaced=True,
        printer_columns=(
            PrinterColumn("Type", "string", ".type"),
            PrinterColumn("Data", "integer", "@data"),
            _AGE,
        ),
    ),
    ResourceType(
        "",
        "v1",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        namespaced=True,
        short_names=("sa",),
        printer_columns=(_AGE,),
    ),
    # Printed by events.printing, not by columns.
    ResourceType(
        "",
        "v1",
        "events",
        "event",
        "Event",
        namespaced=True,
        short_names=("ev",),
        create_on_update=True,
    ),
    ResourceType(
        "events.k8s.io",
        "v1",
        "events",
        "event",
        "Event",
        namespaced=True,
        short_names=("ev",),
        create_on_update=True,
        storage_version=False,
        stored_as=("", "events"),
    ),
    ResourceType(
        "coordination.k8s.io",
        "v1",
        "leases",
        "lease",
        "Lease",
        namespaced=True,
        printer_columns=(PrinterColumn("Holder", "string", ".spec.holderIdentity"), _AGE),
    ),
    ResourceType(
        "apiextensions.k8s.io",
        "v1",
        "customresourcedefinitions",
        "customresourcedefinition",
        "CustomResourceDefinition",
        namespaced=False,
        short_names=("crd", "crds"),
        categories=("api-extensions",),
        has_status=True,
        tracks_generation=True,
        unconditional_update=False,
        printer_columns=(PrinterColumn("Created At", "string", ".metadata.creationTimestamp"),),
    ),
)


class Registry:
    """The resource types currently served, keyed by (group, version, plural)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._types: dict[tuple[str, str, str], ResourceType] = {}
        self._owners: dict[tuple[str, str, str], str] = {}
        for resource in BUILTINS:
            self._types[(resource.group, resource.version, resource.plural)] = resource

    def lookup(self, group: str, version: str, plural: str) -> ResourceType | None:
        with self._lock:
            return self._types.get((group, version, plural))

    def by_kind(self, api_version: str, kind: str) -> ResourceType | None:
        group, _, version = api_version.rpartition("/")
        with self._lock:
            for resource in self._types.values():
                if (resource.group, resource.version, resource.kind) == (group, version, kind):
                    return resource
        return None

    def storage_version(self, group: str, plural: str) -> ResourceType | None:
        with self._lock:
            for resource in self._types.values():
                if resource.storage_key == (group, plural) and resource.storage_version:
                    return resource
        return None

    def __iter__(self) -> Iterator[ResourceType]:
        with self._lock:
            return iter(sorted(self._types.values(), key=lambda r: (r.group, r.version, r.plural)))

    def replace_owned(self, owner: str, resources: list[ResourceType]) -> None:
        """Swap the types a CRD (``owner``) serves for ``resources``."""
        with self._lock:
            for key in [key for key, value in self._owners.items() if value == owner]:
                del self._types[key]
                del self._owners[key]
            for resource in resources:
                key = (resource.group, resource.version, resource.plural)
                self._types[key] = resource
                self._owners[key] = owner

    def owner_of(self, group: str, plural: str) -> str | None:
        with self._lock:
            for (g, _, p), owner in self._owners.items():
                if (g, p) == (group, plural):
                    return owner
        return None
