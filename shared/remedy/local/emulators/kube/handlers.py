"""The verbs on resource URLs: get, list, watch, create, update, patch, delete(collection).

Each handler reads the request's parameters the way the apiserver does (``dryRun``,
``fieldValidation``, ``fieldManager``, selectors, ``limit``/``continue``,
``DeleteOptions``), calls the :class:`~remedy.local.emulators.kube.cluster.Cluster`, and
encodes the answer: stored JSON text for objects and lists (no re-serialisation), a
``Table`` for ``kubectl get``, a ``Status`` for a completed delete.
"""

from __future__ import annotations

from typing import Any

from remedy.local.emulators.kube import errors, lifecycle, tables, versions
from remedy.local.emulators.kube.cluster import Cluster, Listing, Written
from remedy.local.emulators.kube.errors import FieldError
from remedy.local.emulators.kube.fields import FieldSelector, parse_fields
from remedy.local.emulators.kube.http import (
    Output,
    Request,
    Response,
    respond,
    respond_text,
    warning_headers,
)
from remedy.local.emulators.kube.resources import ResourceType
from remedy.local.emulators.kube.routing import Route
from remedy.local.emulators.kube.selectors import LabelSelector, parse_labels
from remedy.local.emulators.kube.store import Stored, dumps
from remedy.local.emulators.kube.watch import WatchStream

_VALIDATION = ("", "Ignore", "Warn", "Strict")


def _dry_run(request: Request) -> bool:
    value = request.query.get("dryRun", "")
    if value not in ("", "All"):
        raise errors.bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return value == "All"


def _field_validation(request: Request) -> str:
    value = request.query.get("fieldValidation", "")
    if value not in _VALIDATION:
        raise errors.bad_request(
            f'fieldValidation: Unsupported value: "{value}": '
            'supported values: "Ignore", "Warn", "Strict"'
        )
    return value


def _selectors(
    request: Request, resource: ResourceType
) -> tuple[LabelSelector | None, FieldSelector | None]:
    label_text = request.query.get("labelSelector", "")
    field_text = request.query.get("fieldSelector", "")
    labels = parse_labels(label_text) if label_text else None
    fields = (
        parse_fields(
            field_text,
            group=resource.group,
            plural=resource.plural,
            builtin=resource.builtin,
            namespaced=resource.namespaced,
        )
        if field_text
        else None
    )
    return labels, fields


def _object(
    record: Stored,
    route: Route,
    output: Output,
    request: Request,
    *,
    status: int = 200,
    warnings: tuple[str, ...] = (),
) -> Response:
    extra = warning_headers(warnings)
    if output.table:
        body = tables.table(
            route.resource,
            [record],
            resource_version=record.metadata.get("resourceVersion", ""),
            include=request.query.get("includeObject", "Metadata"),
        )
        return respond(status, body, output=output, extra=extra)
    return respond_text(
        status, versions.served_text(record, route.resource), output=output, extra=extra
    )


def _written(written: Written, route: Route, output: Output, request: Request) -> Response:
    """A write's answer: 201 when it created the object, else 200; its warnings as headers."""
    status = 201 if written.created else 200
    return _object(written.stored, route, output, request, status=status, warnings=written.warnings)


def _listing(listing: Listing, route: Route, output: Output, request: Request) -> Response:
    resource = route.resource
    if output.table:
        body = tables.table(
            resource,
            listing.items,
            resource_version=listing.resource_version,
            include=request.query.get("includeObject", "Metadata"),
            continue_token=listing.continue_token,
        )
        return respond(200, body, output=output)
    metadata: dict[str, Any] = {"resourceVersion": str(listing.resource_version)}
    if listing.continue_token:
        metadata["continue"] = listing.continue_token
        metadata["remainingItemCount"] = listing.remaining
    head = dumps(
        {"kind": resource.list_kind, "apiVersion": resource.api_version, "metadata": metadata}
    )
    items = ",".join(versions.served_text(record, resource) for record in listing.items)
    return respond_text(200, head[:-1] + ',"items":[' + items + "]}", output=output)


def get(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    record = cluster.get(route.resource, route.namespace or "", route.name)
    return _object(record, route, output, request)


def list_(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    labels, fields = _selectors(request, route.resource)
    continue_token = request.query.get("continue", "")
    if continue_token and request.query.get("resourceVersion") not in (None, ""):
        raise errors.bad_request("specifying resource version is not allowed when using continue")
    rv = request.query.get("resourceVersion", "")
    if rv and not rv.isdigit():
        raise errors.bad_request(f'invalid resource version: "{rv}"')
    if (
        rv
        and request.query.get("resourceVersionMatch") == "Exact"
        and int(rv) != cluster.store.resource_version
    ):
        raise errors.gone(f"too old resource version: {rv} ({cluster.store.resource_version})")
    if rv and int(rv) > cluster.store.resource_version:
        raise errors.server_timeout(
            f"Too large resource version: {rv}, current: {cluster.store.resource_version}"
        )
    listing = cluster.list(
        route.resource,
        route.namespace,
        labels=labels,
        fields=fields,
        limit=request.int_param("limit") or 0,
        continue_token=continue_token,
    )
    return _listing(listing, route, output, request)


def watch(
    cluster: Cluster, route: Route, request: Request, output: Output, *, bookmark_interval: float
) -> Response:
    labels, fields = _selectors(request, route.resource)
    namespace = route.namespace
    if route.name:
        # GET .../watch/<plural>/<name> watches one object.
        fields = (fields or FieldSelector()).with_name(route.name)
    stream = WatchStream(
        cluster,
        route.resource,
        namespace,
        labels=labels,
        fields=fields,
        bookmark_interval=bookmark_interval,
    )
    return stream.respond(request, output)


def create(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    if route.name or route.subresource:
        raise errors.method_not_allowed("POST", route.resource.kind)
    if route.resource.namespaced and route.namespace is None:
        raise errors.ApiError(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    body, raw = request.json_body()
    written = cluster.create(
        route.resource,
        route.namespace or "",
        body,
        dry_run=_dry_run(request),
        field_validation=_field_validation(request),
        raw=raw,
    )
    return _written(written, route, output, request)


def update(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    body, raw = request.json_body()
    written = cluster.update(
        route.resource,
        route.namespace or "",
        route.name,
        body,
        subresource=route.subresource,
        dry_run=_dry_run(request),
        field_validation=_field_validation(request),
        raw=raw,
    )
    return _written(written, route, output, request)


def patch(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    written = cluster.patch(
        route.resource,
        route.namespace or "",
        route.name,
        patch_type=request.content_type,
        body=request.body.decode("utf-8", errors="replace"),
        subresource=route.subresource,
        dry_run=_dry_run(request),
        field_validation=_field_validation(request),
        field_manager=request.query.get("fieldManager", ""),
    )
    return _written(written, route, output, request)


def _delete_options(request: Request) -> dict[str, Any]:
    body: Any = {}
    if request.body.strip():
        body, _ = request.json_body()
    if not isinstance(body, dict):
        raise errors.bad_request("DeleteOptions must be a JSON object")
    grace = body.get("gracePeriodSeconds", request.int_param("gracePeriodSeconds"))
    if grace is not None and (not isinstance(grace, int) or grace < 0):
        raise errors.invalid(
            group="meta.k8s.io",
            kind="DeleteOptions",
            name="",
            errors=[
                FieldError("gracePeriodSeconds", "FieldValueInvalid", "must be >= 0", value=grace)
            ],
        )
    propagation = body.get("propagationPolicy") or request.query.get("propagationPolicy") or None
    orphan = body.get("orphanDependents", None)
    if propagation is None and orphan is not None:
        propagation = "Orphan" if orphan else "Background"
    dry = body.get("dryRun") or ([request.query["dryRun"]] if request.query.get("dryRun") else [])
    if dry not in ([], ["All"]):
        raise errors.bad_request(f'dryRun: Unsupported value: "{dry}": supported values: "All"')
    return {
        "preconditions": body.get("preconditions") or {},
        "grace_period": grace,
        "propagation": propagation,
        "dry_run": dry == ["All"],
    }


def delete(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    options = _delete_options(request)
    deleted = cluster.delete(route.resource, route.namespace or "", route.name, **options)
    if not deleted.gone:
        return _object(deleted.stored, route, output, request)
    details: dict[str, Any] = {"name": route.name}
    if route.resource.group:
        details["group"] = route.resource.group
    details["kind"] = route.resource.plural
    details["uid"] = deleted.stored.metadata.get("uid")
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": details,
    }
    return respond(200, status, output=output)


def delete_collection(cluster: Cluster, route: Route, request: Request, output: Output) -> Response:
    labels, fields = _selectors(request, route.resource)
    listing = cluster.list(route.resource, route.namespace, labels=labels, fields=fields)
    removed = lifecycle.delete_collection(
        cluster, route.resource, listing.items, **_delete_options(request)
    )
    done = Listing(removed, cluster.store.resource_version)
    return _listing(done, route, Output(output.media_type), request)


HANDLERS = {
    "get": get,
    "list": list_,
    "create": create,
    "update": update,
    "patch": patch,
    "delete": delete,
    "deletecollection": delete_collection,
}
