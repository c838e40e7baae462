"""``/openapi/v3``: an index, then one document per group-version.

Before ``kubectl create``/``apply`` sends an object it checks here whether the server
accepts the ``fieldValidation`` query parameter for that kind's PATCH; if so it
leaves validation to the server, else it validates against ``/openapi/v2`` itself
(see :mod:`.v2`). So each group-version document lists, per resource, operations
tagged with ``x-kubernetes-group-version-kind`` that declare ``fieldValidation``,
the PATCH one with the patch media types the kind accepts. Built-in kinds do not
advertise strategic merge patch, which makes ``kubectl apply`` compute it from its
compiled-in types rather than from these schemas (the same patch either way).

``components.schemas`` holds, as on a real server, the group-version's kinds and
lists and every definition they refer to (``ObjectMeta``…; see :mod:`.definitions`)
— what ``kubectl explain`` reads. The index's ``hash`` changes with the document, so
kubectl's disk cache never serves a stale one.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from remedy.local.emulators.kube.openapi import definitions
from remedy.local.emulators.kube.resources import Registry, ResourceType

_PARAMETERS = [
    {"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
    for name in ("dryRun", "fieldManager", "fieldValidation", "force")
]


def _gv_path(resource: ResourceType) -> str:
    return (
        f"apis/{resource.group}/{resource.version}" if resource.group else f"api/{resource.version}"
    )


def _operation(resource: ResourceType, action: str) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": f"{action}{resource.kind}",
        "parameters": _PARAMETERS,
        "responses": {"200": {"description": "OK"}},
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {
            "group": resource.group,
            "version": resource.version,
            "kind": resource.kind,
        },
    }
    if action == "patch":
        types = [t for t in resource.patch_types if "strategic" not in t]
        operation["requestBody"] = {"content": {t: {"schema": {"type": "object"}} for t in types}}
    return operation


def group_version_document(registry: Registry, path: str) -> dict[str, Any] | None:
    members = [r for r in registry if _gv_path(r) == path]
    if not members:
        return None
    paths: dict[str, Any] = {}
    for resource in members:
        item = resource.base_path("{namespace}") + "/{name}"
        collection = resource.base_path("{namespace}")
        paths[item] = {
            "get": _operation(resource, "get"),
            "put": _operation(resource, "put"),
            "patch": _operation(resource, "patch"),
            "delete": _operation(resource, "delete"),
        }
        paths[collection] = {
            "post": _operation(resource, "post"),
            "get": _operation(resource, "list"),
        }
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": paths,
        "components": {"schemas": _schemas(members)},
    }


def _schemas(members: list[ResourceType]) -> dict[str, Any]:
    """The members' kinds and lists, and every definition they refer to."""
    available = definitions.builtin_definitions(definitions.V3_PREFIX)
    roots: list[str] = []
    for resource in members:
        if not resource.builtin:
            available.update(definitions.custom_definitions(resource, v2=False))
        roots.append(definitions.definition_name(resource))
        roots.append(definitions.definition_name(resource, resource.list_kind))
    chosen: dict[str, Any] = {}
    while roots:
        name = roots.pop()
        if name in chosen or name not in available:
            continue
        chosen[name] = _all_of(available[name])
        roots.extend(_references(chosen[name]))
    return dict(sorted(chosen.items()))


def _all_of(node: Any) -> Any:
    """v3's form of a reference with siblings: ``allOf: [{$ref}]`` beside them."""
    if isinstance(node, list):
        return [_all_of(item) for item in node]
    if not isinstance(node, dict):
        return node
    shaped = {key: _all_of(value) for key, value in node.items()}
    if "$ref" in shaped and len(shaped) > 1:
        shaped["allOf"] = [{"$ref": shaped.pop("$ref")}]
    return shaped


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [
            value.removeprefix(definitions.V3_PREFIX)
            for key, value in node.items()
            if key == "$ref" and isinstance(value, str)
        ]
        for value in node.values():
            found.extend(_references(value))
        return found
    if isinstance(node, list):
        return [name for item in node for name in _references(item)]
    return []


def index(registry: Registry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path in sorted({_gv_path(r) for r in registry}):
        document = group_version_document(registry, path)
        digest = (
            hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
        )
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
