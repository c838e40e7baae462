"""How a submitted object becomes a stored one: the apiserver's create/update strategies.

Given the resource type, the request's object and (for updates) the stored one, these
functions check ``apiVersion``/``kind``/name/namespace against the URL, reset the
fields clients may not set (uid, creationTimestamp, generation, deletion fields),
keep ``status`` apart from the main resource when a status subresource exists (and
everything but ``status`` apart on the subresource), apply a custom resource's
schema (defaults, pruning, validation) or an Event's strategy (``events.rules``),
and bump ``metadata.generation`` when the spec changed. They return the object to
store, or raise the ApiError the real server would answer.
"""

from __future__ import annotations

import secrets
import time
import uuid
from typing import Any

from remedy.local.emulators.kube import errors, schemas, versions
from remedy.local.emulators.kube.errors import ApiError, FieldError
from remedy.local.emulators.kube.events import rules
from remedy.local.emulators.kube.resources import ResourceType
from remedy.local.emulators.kube.validation import validate_metadata

_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
# Set by the server only; an update keeps the stored values.
_SYSTEM_FIELDS = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "selfLink",
)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def generated_name(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(5))


def check_type(resource: ResourceType, body: Any, raw: str) -> dict[str, Any]:
    """The decode step: a JSON object whose apiVersion/kind (if any) match the URL."""
    if not isinstance(body, dict):
        raise errors.bad_request(
            f"the object provided is unrecognized (must be of type {resource.kind})"
        )
    api_version, kind = body.get("apiVersion"), body.get("kind")
    if not resource.builtin and not kind:
        raise errors.bad_request(f"Object 'Kind' is missing in '{raw}'")
    if api_version and api_version != resource.api_version:
        raise errors.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({resource.api_version})"
        )
    if kind and kind != resource.kind:
        raise errors.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})"
        )
    body["apiVersion"], body["kind"] = resource.api_version, resource.kind
    meta = body.get("metadata")
    if meta is None:
        body["metadata"] = {}
    elif not isinstance(meta, dict):
        raise errors.bad_request("metadata must be a JSON object")
    return body


def check_namespace(resource: ResourceType, body: dict[str, Any], namespace: str) -> None:
    meta = body["metadata"]
    if not resource.namespaced:
        meta.pop("namespace", None)
        return
    given = meta.get("namespace")
    if given and given != namespace:
        raise errors.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )
    meta["namespace"] = namespace


def _check(
    resource: ResourceType, body: dict[str, Any], strict: str, old: dict[str, Any] | None = None
) -> list[str]:
    """Metadata and schema validation; returns warnings (unknown fields under Warn)."""
    meta = body["metadata"]
    if versions.is_event(resource):
        # The Event strategy's own checks come first and, failing, alone; the generic
        # metadata check that follows takes any name that can be a URL path segment.
        api_version = resource.api_version
        found = (
            rules.validate_create(body, api_version)
            if old is None
            else rules.validate_update(body, old, api_version)
        )
        if found:
            raise invalid(resource, meta.get("name") or "", found)
        found = validate_metadata(meta, dns_label=False, path_segment=True)
    else:
        found = validate_metadata(meta, dns_label=resource.plural == "namespaces")
    warnings: list[str] = []
    if resource.schema is not None:
        schemas.apply_defaults(body, resource.schema)
        unknown = schemas.prune(body, resource.schema)
        if unknown and strict == "Strict":
            fields = ", ".join(f'unknown field "{path}"' for path in unknown)
            raise errors.bad_request(f"strict decoding error: {fields}")
        if strict == "Warn":
            warnings.extend(f'unknown field "{path}"' for path in unknown)
        found.extend(schemas.validate(body, resource.schema))
    if found:
        raise invalid(resource, meta.get("name") or "", found)
    return warnings


def invalid(resource: ResourceType, name: str, found: list[FieldError]) -> ApiError:
    return errors.invalid(group=resource.group, kind=resource.kind, name=name, errors=found)


def prepare_create(
    resource: ResourceType, body: dict[str, Any], *, field_validation: str = ""
) -> list[str]:
    """Fill server-set fields of a new object in place; return warnings."""
    meta = body["metadata"]
    for name in _SYSTEM_FIELDS:
        meta.pop(name, None)
    meta.pop("resourceVersion", None)
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = generated_name(str(meta["generateName"]))
    if resource.has_status and not resource.builtin:
        # A custom resource's status is set through /status only (ignored on create).
        body.pop("status", None)
    if (resource.group, resource.plural) == ("", "secrets"):
        body.setdefault("type", "Opaque")
    if resource.plural == "namespaces":
        body.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        body["status"] = {"phase": "Active"}
    warnings = _check(resource, body, field_validation)
    meta["uid"] = str(uuid.uuid4())
    meta["creationTimestamp"] = now()
    if resource.tracks_generation:
        meta["generation"] = 1
    return warnings


def check_resource_version(resource: ResourceType, body: dict[str, Any], current: int) -> None:
    """An update names the version it was based on; stale → 409, none → 422 for CRs."""
    meta = body["metadata"]
    given = meta.get("resourceVersion")
    name = str(meta.get("name") or "")
    if given in (None, ""):
        if resource.unconditional_update:
            return
        raise errors.invalid(
            group=resource.group,
            kind=errors.qualified(resource.group, resource.plural),
            name=name,
            errors=[
                FieldError(
                    "metadata.resourceVersion",
                    "FieldValueInvalid",
                    "must be specified for an update",
                    value=_GoHex(0),
                )
            ],
        )
    if not isinstance(given, str) or not given.isdigit():
        raise errors.bad_request(f"invalid resource version: {given!r}")
    if int(given) != current:
        raise errors.conflict(resource.group, resource.plural, name)


class _GoHex(int):
    """An unsigned zero as Go's %#v prints it in field errors (``0x0``)."""

    def __str__(self) -> str:
        return hex(self)


def prepare_update(
    resource: ResourceType,
    body: dict[str, Any],
    old: dict[str, Any],
    *,
    subresource: str = "",
    field_validation: str = "",
) -> list[str]:
    """Turn the submitted object into the object to store, in place."""
    meta, old_meta = body["metadata"], old["metadata"]
    if subresource == "status":
        status = body.get("status")
        body.clear()
        body.update(old)
        meta = body["metadata"] = dict(old_meta)
        if status is None:
            body.pop("status", None)
        else:
            body["status"] = status
    elif resource.has_status:
        if "status" in old:
            body["status"] = old["status"]
        else:
            body.pop("status", None)
    for name in _SYSTEM_FIELDS:
        if name in old_meta:
            meta[name] = old_meta[name]
        else:
            meta.pop(name, None)
    if old_meta.get("deletionTimestamp"):
        added = set(meta.get("finalizers") or []) - set(old_meta.get("finalizers") or [])
        if added:
            listed = ", ".join(f'"{name}"' for name in sorted(added))
            raise invalid(
                resource,
                str(meta.get("name")),
                [
                    FieldError(
                        "metadata.finalizers",
                        "FieldValueForbidden",
                        f"no new finalizers can be added if the object is being deleted, "
                        f"found new finalizers []string{{{listed}}}",
                    )
                ],
            )
    warnings = _check(resource, body, field_validation, old)
    if resource.tracks_generation and _spec_changed(resource, body, old):
        meta["generation"] = int(old_meta.get("generation") or 1) + 1
    return warnings


def _spec_changed(resource: ResourceType, new: dict[str, Any], old: dict[str, Any]) -> bool:
    ignored = {"metadata", "status"} if resource.has_status else {"metadata"}
    return {k: v for k, v in new.items() if k not in ignored} != {
        k: v for k, v in old.items() if k not in ignored
    }
