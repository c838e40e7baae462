"""``/openapi/v2``: the Swagger 2.0 document kubectl validates and patches with.

kubectl 1.37 still reads v2 for two things. Client-side validation: ``apply`` and
``create`` with ``--validate=true|strict`` (the default) check each object against
its kind's definition — always for a ``v1 List``, whose items' kinds the v3
``fieldValidation`` probe cannot vouch for, and for any kind whose v3 document does
not declare ``fieldValidation``. And ``apply``'s three-way patch: it looks up the
PATCH operation tagged with the kind's ``x-kubernetes-group-version-kind`` and uses
strategic merge only if that operation ``consumes`` it, else a JSON merge patch.

So the document has, per served resource, its collection, item and ``status`` paths
with operations tagged like the apiserver's (``x-kubernetes-action``, the GVK, the
patch types as ``consumes``), and the definitions of :mod:`.definitions`. Built-in
kinds do not list strategic merge patch (as in the v3 document), so kubectl computes
it from its compiled-in types instead of this schema — the same patch either way.

Served as a real apiserver serves it (kube-openapi's handler): JSON by default, the
gnostic protobuf for ``application/com.github.proto-openapi.spec.v2[@.]v1.0+protobuf``
(what client-go asks for), 406 for anything else; ``ETag`` is the SHA-512 of the JSON
document, so ``If-None-Match`` gets 304. Built from the live registry per request: a
CRD's kinds appear as soon as it is established.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Any

from remedy.local.emulators.kube.http import Request, Response
from remedy.local.emulators.kube.openapi import definitions, gnostic
from remedy.local.emulators.kube.resources import Registry, ResourceType

PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
_ACCEPTED = (
    ("application", "json", "application/json"),
    ("application", "com.github.proto-openapi.spec.v2@v1.0+protobuf", PROTOBUF),
    ("application", "com.github.proto-openapi.spec.v2.v1.0+protobuf", PROTOBUF),
)
_SMP = "application/strategic-merge-patch+json"
_PRODUCES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_QUERY_HELP = {
    "pretty": "If 'true', then the output is pretty printed.",
    "dryRun": "When present, indicates that modifications should not be persisted.",
    "fieldManager": "fieldManager is a name associated with the actor or entity "
    "that is making these changes.",
    "fieldValidation": "fieldValidation instructs the server on how to handle objects in "
    "the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values "
    "are: - Ignore - Warn - Strict",
    "force": 'Force is going to "force" Apply requests.',
    "labelSelector": "A selector to restrict the list of returned objects by their labels.",
    "fieldSelector": "A selector to restrict the list of returned objects by their fields.",
    "limit": "limit is a maximum number of responses to return for a list call.",
    "continue": "The continue option should be set when retrieving more results from the server.",
    "resourceVersion": "resourceVersion sets a constraint on what resource versions a "
    "request may be served from.",
    "watch": "Watch for changes to the described resources and return them as a stream of "
    "add, update, and remove notifications.",
    "gracePeriodSeconds": "The duration in seconds before the object should be deleted.",
    "propagationPolicy": "Whether and how garbage collection will be performed.",
}
_QUERY_FOR = {
    "list": ("labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch"),
    "post": ("dryRun", "fieldManager", "fieldValidation"),
    "put": ("dryRun", "fieldManager", "fieldValidation"),
    "patch": ("dryRun", "fieldManager", "fieldValidation", "force"),
    "delete": ("dryRun", "gracePeriodSeconds", "propagationPolicy"),
    "deletecollection": ("dryRun", "labelSelector", "fieldSelector", "gracePeriodSeconds"),
    "get": (),
}
_VERBS = {
    "list": "list",
    "post": "create",
    "deletecollection": "deletecollection",
    "get": "read",
    "put": "replace",
    "delete": "delete",
    "patch": "patch",
}
_INTEGER_PARAMETERS = ("limit", "gracePeriodSeconds")
_BOOLEAN_PARAMETERS = ("watch", "force")


def document(registry: Registry) -> dict[str, Any]:
    """The whole Swagger document for what ``registry`` serves."""
    members = list(registry)
    found = definitions.builtin_definitions(definitions.V2_PREFIX)
    paths: dict[str, Any] = {}
    for resource in members:
        if not resource.builtin:
            found.update(definitions.custom_definitions(resource, v2=True))
        paths.update(_paths(resource))
    return {
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.37.0"},
        "paths": dict(sorted(paths.items())),
        "definitions": dict(sorted(found.items())),
        "securityDefinitions": {
            "BearerToken": {
                "description": "Bearer Token authentication",
                "in": "header",
                "name": "authorization",
                "type": "apiKey",
            }
        },
        "security": [{"BearerToken": []}],
    }


def _paths(resource: ResourceType) -> dict[str, Any]:
    root = f"/apis/{resource.group}/{resource.version}" if resource.group else "/api/v1"
    scope = "/namespaces/{namespace}" if resource.namespaced else ""
    collection = f"{root}{scope}/{resource.plural}"
    item = collection + "/{name}"
    namespaced = "Namespaced" if resource.namespaced else ""
    paths = {
        collection: _path_item(
            resource, namespaced, ("list", "post", "deletecollection"), name=False
        ),
        item: _path_item(resource, namespaced, ("get", "put", "delete", "patch"), name=True),
    }
    if resource.has_status:
        paths[item + "/status"] = _path_item(
            resource, namespaced, ("get", "put", "patch"), name=True, status=True
        )
    if resource.namespaced:
        everywhere = _path_item(resource, "", ("list",), name=False, all_namespaces=True)
        paths[f"{root}/{resource.plural}"] = everywhere
    return paths


def _path_item(
    resource: ResourceType,
    namespaced: str,
    actions: tuple[str, ...],
    *,
    name: bool,
    status: bool = False,
    all_namespaces: bool = False,
) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for action in actions:
        method = {"list": "get", "deletecollection": "delete"}.get(action, action)
        item[method] = _operation(resource, namespaced, action, status, all_namespaces)
    parameters = [_query("pretty")]
    if name:
        parameters.insert(0, _path_parameter("name", f"name of the {resource.kind}"))
    if namespaced:
        help_text = "object name and auth scope, such as for teams and projects"
        parameters.insert(1 if name else 0, _path_parameter("namespace", help_text))
    item["parameters"] = parameters
    return item


def _operation(
    resource: ResourceType, namespaced: str, action: str, status: bool, all_namespaces: bool
) -> dict[str, Any]:
    group = "".join(part.capitalize() for part in resource.group.replace("-", ".").split("."))
    suffix = "Status" if status else ("ForAllNamespaces" if all_namespaces else "")
    verb = _VERBS[action]
    operation_id = f"{verb}{group or 'Core'}{resource.version.capitalize()}{namespaced}"
    reply = resource.list_kind if action == "list" else resource.kind
    if action in ("delete", "deletecollection"):
        target = "io.k8s.apimachinery.pkg.apis.meta.v1.Status"
    else:
        target = definitions.definition_name(resource, reply)
    parameters = [_query(name) for name in _QUERY_FOR[action]]
    if action in ("post", "put", "patch"):
        body = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch" if action == "patch" else None
        parameters.insert(0, _body(body or definitions.definition_name(resource)))
    if action in ("delete", "deletecollection"):
        parameters.insert(0, _body("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"))
        parameters[0]["required"] = False
    consumes = ["*/*"] if resource.builtin else ["application/json", "application/yaml"]
    if action == "patch":
        consumes = [t for t in resource.patch_types if t != _SMP]
    return {
        "consumes": consumes,
        "description": f"{verb} {resource.kind}",
        "operationId": f"{operation_id}{resource.kind}{suffix}",
        "parameters": parameters,
        "produces": _PRODUCES,
        "responses": {
            "200": {"description": "OK", "schema": {"$ref": definitions.V2_PREFIX + target}},
            "401": {"description": "Unauthorized"},
        },
        "schemes": ["https"],
        "tags": [f"{group[:1].lower()}{group[1:]}_{resource.version}" if group else "core_v1"],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": definitions.gvk(resource),
    }


def _query(name: str) -> dict[str, Any]:
    kind = "string"
    if name in _INTEGER_PARAMETERS:
        kind = "integer"
    elif name in _BOOLEAN_PARAMETERS:
        kind = "boolean"
    return {
        "description": _QUERY_HELP[name],
        "in": "query",
        "name": name,
        "type": kind,
        "uniqueItems": True,
    }


def _path_parameter(name: str, help_text: str) -> dict[str, Any]:
    return {
        "description": help_text,
        "in": "path",
        "name": name,
        "required": True,
        "type": "string",
        "uniqueItems": True,
    }


def _body(definition: str) -> dict[str, Any]:
    return {
        "in": "body",
        "name": "body",
        "required": True,
        "schema": {"$ref": definitions.V2_PREFIX + definition},
    }


# --- serving --------------------------------------------------------------------------


def _clauses(accept: str) -> list[tuple[str, str]]:
    """``Accept`` entries by preference: quality, then the more specific first."""
    ranked: list[tuple[float, int, int, str, str]] = []
    for position, entry in enumerate((accept or "*/*").split(",")):
        media, *params = (part.strip() for part in entry.split(";"))
        kind, _, sub = media.partition("/")
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0 and kind:
            ranked.append((-quality, (kind == "*") + (sub == "*"), position, kind, sub or "*"))
    return [(kind, sub) for *_, kind, sub in sorted(ranked)]


@functools.lru_cache(maxsize=4)
def _protobuf(text: str) -> bytes:
    """Encoding takes tens of milliseconds; the document rarely changes."""
    return gnostic.encode_document(json.loads(text))


def serve(registry: Registry, request: Request) -> Response:
    text = json.dumps(document(registry), sort_keys=True, separators=(",", ":"))
    etag = '"' + hashlib.sha512(text.encode()).hexdigest().upper() + '"'
    headers = [("Vary", "Accept")]
    for kind, sub in _clauses(request.headers.get("accept", "")):
        for accepted_kind, accepted_sub, content_type in _ACCEPTED:
            if kind not in (accepted_kind, "*") or sub not in (accepted_sub, "*"):
                continue
            headers += [("Etag", etag), ("Content-Type", content_type)]
            wanted = {tag.strip() for tag in request.headers.get("if-none-match", "").split(",")}
            if etag in wanted or "*" in wanted:
                return Response(304, [], headers)
            data = _protobuf(text) if content_type == PROTOBUF else text.encode()
            headers.append(("Content-Length", str(len(data))))
            return Response(200, [data], headers)
    return Response(406, [], [*headers, ("Content-Length", "0")])
