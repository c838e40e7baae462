"""Event validation, by the version a request came through, with the apiserver's texts.

The Event strategy (k8s.io/kubernetes ``pkg/registry/core/event``, validation in
``pkg/apis/core/validation/events.go``) validates the stored form, but what it asks
depends on the request's group-version:

- every write passes the *legacy* checks: an Event without ``eventTime`` must sit in
  its ``involvedObject``'s namespace (or ``default`` when that is empty); one with
  ``eventTime`` needs ``reportingController`` (a qualified name — the field is named
  ``reportingComponent`` in the error of a core ``v1`` request), ``reportingInstance``,
  ``action`` and ``reason``, within their length limits, and a ``message`` of at most
  1024 characters; the namespace must be a DNS subdomain;
- a create through ``events.k8s.io/v1`` also needs a valid name (DNS subdomain),
  ``eventTime``, ``type`` ``Normal`` or ``Warning``, a ``series`` (if any) of count
  ≥ 2 with ``lastObservedTime``, and none of the deprecated fields set;
- an update through ``events.k8s.io/v1`` may not change anything but the series
  (and metadata): each other field answers "field is immutable".

Core ``v1`` writes get only the legacy checks — which is why old clients can still
write what they like. A 422 lists every problem, in the apiserver's order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remedy.local.emulators.kube.errors import FieldError, GoLiteral
from remedy.local.emulators.kube.events import shapes, times
from remedy.local.emulators.kube.names import label_key_errors, subdomain_errors
from remedy.local.emulators.kube.validation import validate_metadata

_LIMITS = {"reportingInstance": 128, "action": 128, "reason": 128}
_NOTE_LIMIT = 1024
_NAMESPACE_DEFAULT, _NAMESPACE_SYSTEM = "default", "kube-system"


def _text(event: Mapping[str, Any], name: str) -> str:
    return str(shapes.field_of(event, name))


def _invalid(path: str, value: Any, detail: str) -> FieldError:
    return FieldError(path, "FieldValueInvalid", detail, value=value)


def _required(path: str) -> FieldError:
    return FieldError(path, "FieldValueRequired", "")


def _legacy(event: Mapping[str, Any], api_version: str) -> list[FieldError]:
    found: list[FieldError] = []
    namespace = str(event["metadata"].get("namespace") or "")
    involved = str(shapes.field_of(event, "involvedObject").get("namespace", ""))
    mismatch = _invalid("involvedObject.namespace", involved, "does not match event.namespace")
    if event.get("eventTime") is None:
        if (involved and namespace != involved) or (
            not involved and namespace not in ("", _NAMESPACE_DEFAULT)
        ):
            found.append(mismatch)
    else:
        if not involved and namespace not in (_NAMESPACE_DEFAULT, _NAMESPACE_SYSTEM):
            found.append(mismatch)
        controller_path = (
            "reportingComponent" if api_version == shapes.CORE else "reportingController"
        )
        controller = _text(event, "reportingComponent")
        if not controller:
            found.append(_required(controller_path))
        found.extend(_invalid(controller_path, controller, m) for m in label_key_errors(controller))
        for name in ("reportingInstance", "action", "reason"):
            value = _text(event, name)
            if not value:
                found.append(_required(name))
            if len(value) > _LIMITS[name]:
                found.append(_invalid(name, "", f"can have at most {_LIMITS[name]} characters"))
        if len(_text(event, "message")) > _NOTE_LIMIT:
            found.append(_invalid("message", "", f"can have at most {_NOTE_LIMIT} characters"))
    found.extend(_invalid("namespace", namespace, m) for m in subdomain_errors(namespace))
    return found


def _series(event: Mapping[str, Any]) -> list[FieldError]:
    series = event.get("series")
    if series is None:
        return []
    found: list[FieldError] = []
    if int(series.get("count") or 0) < 2:
        found.append(_invalid("series.count", "", "should be at least 2"))
    if series.get("lastObservedTime") is None:
        found.append(_required("series.lastObservedTime"))
    return found


def validate_create(event: Mapping[str, Any], api_version: str) -> list[FieldError]:
    """``ValidateEventCreate`` of the stored form, for a request through ``api_version``."""
    found = _legacy(event, api_version)
    if api_version == shapes.CORE:
        return found
    found.extend(validate_metadata(event["metadata"], dns_label=False))
    found.extend(_series(event))
    if event.get("eventTime") is None:
        found.append(_required("eventTime"))
    kind = _text(event, "type")
    if kind not in ("Normal", "Warning"):
        found.append(_invalid("type", "", f"has invalid value: {kind}"))
    for name in ("firstTimestamp", "lastTimestamp"):
        if event.get(name) is not None:
            found.append(_invalid(name, "", "needs to be unset"))
    if shapes.field_of(event, "count"):
        found.append(_invalid("count", "", "needs to be unset"))
    if shapes.field_of(event, "source"):
        found.append(_invalid("source", "", "needs to be unset"))
    return found


# Checked for immutability on an events.k8s.io/v1 update, in the apiserver's order
# (which checks ``reason`` twice).
_IMMUTABLE = (
    ("involvedObject", "ref"),
    ("reason", "string"),
    ("message", "string"),
    ("source", "source"),
    ("firstTimestamp", "time"),
    ("lastTimestamp", "time"),
    ("count", "int"),
    ("reason", "string"),
    ("type", "string"),
    ("eventTime", "time"),
    ("action", "string"),
    ("related", "ref"),
    ("reportingComponent", "string"),
    ("reportingInstance", "string"),
)
_ERROR_PATHS = {"reportingComponent": "reportingController"}


def validate_update(
    event: Mapping[str, Any], old: Mapping[str, Any], api_version: str
) -> list[FieldError]:
    """``ValidateEventUpdate``: legacy checks, and for events.k8s.io/v1 immutability."""
    found = _legacy(event, api_version)
    if api_version == shapes.CORE:
        return found
    if event.get("series") != old.get("series"):
        found.extend(_series(event))
    for name, kind in _IMMUTABLE:
        value = shapes.field_of(event, name)
        if value != shapes.field_of(old, name):
            detail = "field is immutable"
            found.append(_invalid(_ERROR_PATHS.get(name, name), _printed(value, kind), detail))
    return found


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _printed(value: Any, kind: str) -> Any:
    """The value as ``field.Invalid`` prints it: strings quoted, structs as ``%#v``."""
    if kind == "time":
        return GoLiteral(times.go_string(value))
    if kind == "ref":
        if value is None:
            return GoLiteral("null")
        names = ("Kind", "Namespace", "Name", "UID", "APIVersion", "ResourceVersion", "FieldPath")
        keys = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
        inner = ", ".join(
            f"{n}:{_quoted(value.get(k, ''))}" for n, k in zip(names, keys, strict=True)
        )
        return GoLiteral(f"core.ObjectReference{{{inner}}}")
    if kind == "source":
        component, host = _quoted(value.get("component", "")), _quoted(value.get("host", ""))
        return GoLiteral(f"core.EventSource{{Component:{component}, Host:{host}}}")
    return value
