"""An object in the version a request names, and back to the stored form.

Objects are stored once per (group, plural), in the storage version. Served under
another version, a custom resource is only relabelled (``apiVersion``: remedy's CRDs
have one schema across versions, and no conversion webhook); an Event is converted
between core ``v1`` (its storage version) and ``events.k8s.io/v1`` field by field
(:mod:`.events.shapes`). Every write of an Event, in either version, is decoded the
way the typed decoder does: unknown fields are dropped (400 under
``fieldValidation=Strict``, a warning otherwise) and a field of the wrong JSON type is
a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from remedy.local.emulators.kube import errors
from remedy.local.emulators.kube.events import STORAGE_KEY, shapes
from remedy.local.emulators.kube.resources import ResourceType
from remedy.local.emulators.kube.store import Stored, dumps


def is_event(resource: ResourceType) -> bool:
    return resource.storage_key == STORAGE_KEY


def served(obj: dict[str, Any], resource: ResourceType) -> dict[str, Any]:
    """A stored object as ``resource``'s version shows it (``obj`` itself if the same)."""
    if is_event(resource) and resource.api_version != shapes.CORE:
        return shapes.encode(obj, resource.api_version)
    if obj.get("apiVersion") == resource.api_version:
        return obj
    return dict(obj, apiVersion=resource.api_version)


def served_text(record: Stored, resource: ResourceType) -> str:
    """The JSON text of ``served``: the stored text itself when nothing changes."""
    if record.obj.get("apiVersion") == resource.api_version:
        return record.raw
    return dumps(served(record.obj, resource))


def to_storage(
    resource: ResourceType, body: dict[str, Any], *, field_validation: str
) -> tuple[dict[str, Any], list[str]]:
    """A request object (already checked against the URL) → the form to store, and
    the warnings to answer with."""
    if not is_event(resource):
        return body, []
    try:
        stored, unknown = shapes.decode(body, resource.api_version)
    except shapes.DecodeError as error:
        raise errors.bad_request(
            f'{resource.kind} in version "{resource.version}" cannot be handled as a '
            f"{resource.kind}: {error}"
        ) from None
    problems = [f'unknown field "{path}"' for path in unknown]
    if problems and field_validation == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(problems))
    return stored, [] if field_validation == "Ignore" else problems
