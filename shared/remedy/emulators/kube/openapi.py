"""A minimal OpenAPI v3 description, enough for kubectl's server-side validation.

Before ``kubectl create``/``apply`` sends an object it checks, through
``/openapi/v3``, whether the server accepts the ``fieldValidation`` query parameter
for that kind's PATCH; if it cannot tell it falls back to client-side validation
against ``/openapi/v2``, and fails when that is missing too. So each group-version
document here lists, per resource, a PATCH operation tagged with
``x-kubernetes-group-version-kind`` that declares ``fieldValidation`` and the patch
media types the kind accepts. Built-in kinds do not advertise strategic merge patch
here, which makes ``kubectl apply`` compute it from its compiled-in types (as it
would without OpenAPI) instead of from a schema this emulator does not serve.
``/openapi/v2`` answers 404, which kubectl tolerates once v3 answered. Custom
resources also carry their CRD schema under ``components``, tagged with their kind,
which is what ``kubectl explain`` reads.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from remedy.emulators.kube.resources import Registry, ResourceType

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
    schemas: dict[str, Any] = {}
    for resource in members:
        if resource.schema is None:
            continue
        prefix = ".".join(reversed(resource.group.split(".")))
        gvk = {"group": resource.group, "version": resource.version, "kind": resource.kind}
        schemas[f"{prefix}.{resource.version}.{resource.kind}"] = {
            **resource.schema,
            "x-kubernetes-group-version-kind": [gvk],
        }
    return schemas


def index(registry: Registry) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path in sorted({_gv_path(r) for r in registry}):
        document = group_version_document(registry, path)
        digest = (
            hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:32].upper()
        )
        paths[path] = {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
    return {"paths": paths}
