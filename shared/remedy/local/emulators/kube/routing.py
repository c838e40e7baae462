"""URL → (resource type, namespace, name, subresource, verb), as the apiserver maps them.

Resource URLs have the shapes ``/api/v1[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]``
and ``/apis/{group}/{version}[/namespaces/{ns}]/{plural}[/{name}[/{sub}]]``; the
legacy ``.../watch/...`` prefix is accepted too. ``/api/v1/namespaces/{name}`` is the
namespace itself and ``/api/v1/namespaces/{name}/status`` its status.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.local.emulators.kube import errors
from remedy.local.emulators.kube.resources import Registry, ResourceType

SUBRESOURCES = ("status",)


@dataclass(frozen=True)
class Route:
    resource: ResourceType
    namespace: str | None  # None: not in the URL (cluster-scoped, or all namespaces)
    name: str = ""
    subresource: str = ""
    watch_prefix: bool = False


def verb(method: str, route: Route, *, watch: bool) -> str:
    if method == "GET":
        if watch or route.watch_prefix:
            return "watch"
        return "get" if route.name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if route.name else "deletecollection"
    raise errors.method_not_allowed(method, route.resource.kind)


def resolve(registry: Registry, path: str) -> Route | None:
    """The route of a resource URL, None if ``path`` is not one."""
    parts = [part for part in path.split("/") if part]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch_prefix = bool(rest) and rest[0] == "watch"
    if watch_prefix:
        rest = rest[1:]
    if not rest:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        target = registry.lookup(group, version, rest[2])
        if target is not None and target.namespaced:
            namespace, rest = rest[1], rest[2:]
        elif group == "" and len(rest) == 3 and rest[2] in ("status", "finalize"):
            rest = ["namespaces", rest[1], rest[2]]
        else:
            return _unknown(group, version, rest[2])
    resource = registry.lookup(group, version, rest[0])
    if resource is None:
        return _unknown(group, version, rest[0])
    if len(rest) > 3 or (len(rest) == 3 and rest[2] not in SUBRESOURCES and rest[2] != "finalize"):
        return None
    if len(rest) == 3 and rest[2] == "status" and not resource.has_status:
        raise errors.path_not_found()
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) == 3 else ""
    return Route(resource, namespace, name, subresource, watch_prefix)


def _unknown(group: str, version: str, plural: str) -> Route | None:
    # The real server answers an unknown resource with a bare 404.
    raise errors.path_not_found()
