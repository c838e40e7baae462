"""The two wire shapes of an Event, and the apiserver's conversion between them.

There is one Event store; its objects are kept in the storage version, core ``v1``
(``involvedObject``, ``message``, ``source``, ``firstTimestamp``, ``count``,
``reportingComponent``…). ``events.k8s.io/v1`` is the same object under other names,
converted both ways as k8s.io/kubernetes ``pkg/apis/events/v1/conversion.go`` does:
``regarding`` ↔ ``involvedObject``, ``note`` ↔ ``message``, ``reportingController``
↔ ``reportingComponent``, ``deprecatedSource``/``deprecatedFirstTimestamp``/
``deprecatedLastTimestamp``/``deprecatedCount`` ↔ ``source``/``firstTimestamp``/
``lastTimestamp``/``count``; ``eventTime``, ``series``, ``action``, ``reason``,
``related``, ``type`` and ``reportingInstance`` keep their names.

:func:`decode` reads a request body of either shape the way the typed decoder does —
known fields only (the rest are reported as unknown, for ``fieldValidation``), each
checked for its JSON type, times parsed and normalized (see :mod:`.times`) — into
the stored form; :func:`encode` writes the stored form in either shape exactly as
Go's ``encoding/json`` would: empty ``omitempty`` strings and counters left out,
struct-typed fields (``involvedObject``/``regarding``, ``source``) always present,
zero times as ``null``, and core ``v1``'s ``reportingComponent`` and
``reportingInstance`` (no ``omitempty`` there) always present.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from remedy.local.emulators.kube.events import times

CORE = "v1"
EVENTS = "events.k8s.io/v1"
_INT32 = (-(2**31), 2**31 - 1)
_REF_FIELDS = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_SOURCE_FIELDS = ("component", "host")


class DecodeError(ValueError):
    """A body the typed decoder rejects; ``str()`` is the decoder's message."""


@dataclass(frozen=True)
class _Field:
    wire: str  # the JSON name in this shape
    stored: str  # the JSON name in the stored (core v1) form
    codec: str  # string, int32, time, micro, ref, source, series
    always: bool = False  # written even when zero (no omitempty, or a struct)
    pointer: bool = False  # *T: absent when nil


_CORE = (
    _Field("involvedObject", "involvedObject", "ref", always=True),
    _Field("reason", "reason", "string"),
    _Field("message", "message", "string"),
    _Field("source", "source", "source", always=True),
    _Field("firstTimestamp", "firstTimestamp", "time", always=True),
    _Field("lastTimestamp", "lastTimestamp", "time", always=True),
    _Field("count", "count", "int32"),
    _Field("type", "type", "string"),
    _Field("eventTime", "eventTime", "micro", always=True),
    _Field("series", "series", "series", pointer=True),
    _Field("action", "action", "string"),
    _Field("related", "related", "ref", pointer=True),
    _Field("reportingComponent", "reportingComponent", "string", always=True),
    _Field("reportingInstance", "reportingInstance", "string", always=True),
)
_EVENTS = (
    _Field("eventTime", "eventTime", "micro", always=True),
    _Field("series", "series", "series", pointer=True),
    _Field("reportingController", "reportingComponent", "string"),
    _Field("reportingInstance", "reportingInstance", "string"),
    _Field("action", "action", "string"),
    _Field("reason", "reason", "string"),
    _Field("regarding", "involvedObject", "ref", always=True),
    _Field("related", "related", "ref", pointer=True),
    _Field("note", "message", "string"),
    _Field("type", "type", "string"),
    _Field("deprecatedSource", "source", "source", always=True),
    _Field("deprecatedFirstTimestamp", "firstTimestamp", "time", always=True),
    _Field("deprecatedLastTimestamp", "lastTimestamp", "time", always=True),
    _Field("deprecatedCount", "count", "int32"),
)
SHAPES = {CORE: _CORE, EVENTS: _EVENTS}
_STRUCTS = {"ref": (_REF_FIELDS, "ObjectReference"), "source": (_SOURCE_FIELDS, "EventSource")}
_GO_TYPES = {
    "string": "string",
    "int32": "int32",
    "ref": "v1.ObjectReference",
    "source": "v1.EventSource",
    "series": "v1.EventSeries",
}


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _mismatch(value: Any, struct: str, path: str, codec: str) -> DecodeError:
    """``encoding/json``'s UnmarshalTypeError: innermost struct, full field path."""
    kind = _json_kind(value)
    if kind.startswith("number") and codec != "int32":
        kind = "number"
    return DecodeError(
        f"json: cannot unmarshal {kind} into Go struct field {struct}.{path} "
        f"of type {_GO_TYPES[codec]}"
    )


def _strings(value: Any, codec: str, path: str, unknown: list[str]) -> dict[str, str]:
    """An ObjectReference or EventSource: a JSON object of optional strings."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _mismatch(value, "Event", path, codec)
    names, struct = _STRUCTS[codec]
    out: dict[str, str] = {}
    for key, item in value.items():
        if key not in names:
            unknown.append(f"{path}.{key}")
        elif item is not None:
            if not isinstance(item, str):
                raise _mismatch(item, struct, f"{path}.{key}", "string")
            out[key] = item
    return out


def _int32(value: Any, struct: str, path: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _mismatch(value, struct, path, "int32")
    if isinstance(value, float) or not _INT32[0] <= value <= _INT32[1]:
        raise _mismatch(value, struct, path, "int32")
    return value


def _time(value: Any, path: str, *, micro: bool) -> str | None:
    try:
        return times.normalized(value, micro=micro)
    except TypeError:
        kind = _json_kind(value).split(" ")[0]
        raise DecodeError(f"json: cannot unmarshal {kind} into Go value of type string") from None
    except times.TimeError as error:
        raise DecodeError(str(error)) from None


def _series(value: Any, path: str, unknown: list[str]) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _mismatch(value, "Event", path, "series")
    series: dict[str, Any] = {"count": 0, "lastObservedTime": None}
    for key, item in value.items():
        if key == "count":
            series["count"] = _int32(item, "EventSeries", f"{path}.count")
        elif key == "lastObservedTime":
            series["lastObservedTime"] = _time(item, f"{path}.lastObservedTime", micro=True)
        else:
            unknown.append(f"{path}.{key}")
    return series


def _decode_field(field: _Field, value: Any, unknown: list[str]) -> Any:
    path = field.wire
    if field.codec == "string":
        if value is not None and not isinstance(value, str):
            raise _mismatch(value, "Event", path, "string")
        return value or ""
    if field.codec == "int32":
        return _int32(value, "Event", path)
    if field.codec in ("time", "micro"):
        return _time(value, path, micro=field.codec == "micro")
    if field.codec == "series":
        return _series(value, path, unknown)
    if field.pointer and value is None:
        return None
    return _strings(value, field.codec, path, unknown)


def decode(body: Mapping[str, Any], api_version: str) -> tuple[dict[str, Any], list[str]]:
    """A request body in ``api_version``'s shape → the stored form, and unknown fields."""
    shape = SHAPES[api_version]
    known = {field.wire: field for field in shape}
    unknown: list[str] = []
    values: dict[str, Any] = {}
    for key, value in body.items():
        if key in ("apiVersion", "kind", "metadata"):
            continue
        field = known.get(key)
        if field is None:
            unknown.append(key)
            continue
        values[field.stored] = _decode_field(field, value, unknown)
    stored: dict[str, Any] = {"kind": "Event", "apiVersion": CORE, "metadata": body["metadata"]}
    for field in _CORE:
        encoded = _encode_field(field, values.get(field.stored, _zero(field)), core=True)
        if encoded is not _OMIT:
            stored[field.wire] = encoded
    return stored, unknown


def _zero(field: _Field) -> Any:
    if field.pointer or field.codec in ("time", "micro"):
        return None
    return {"string": "", "int32": 0}.get(field.codec, {})


_OMIT = object()


def _encode_field(field: _Field, value: Any, *, core: bool) -> Any:
    if field.codec == "series":
        if value is None:
            return _OMIT
        series: dict[str, Any] = {}
        if value.get("count") or not core:
            series["count"] = value.get("count", 0)
        series["lastObservedTime"] = value.get("lastObservedTime")
        return series
    if field.codec in {"ref", "source"}:
        if value is None:
            return _OMIT
        names, _ = _STRUCTS[field.codec]
        return {name: value[name] for name in names if value.get(name)}
    if not value and not field.always:
        return _OMIT
    return value


def encode(stored: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """The stored form written in ``api_version``'s shape (a new, unshared dict)."""
    out: dict[str, Any] = {"kind": "Event", "apiVersion": api_version}
    out["metadata"] = stored["metadata"]
    for field in SHAPES[api_version]:
        value = stored.get(field.stored, _zero(field))
        encoded = _encode_field(field, value, core=api_version == CORE)
        if encoded is not _OMIT:
            out[field.wire] = encoded
    return out


# What the internal type holds for a field the stored form leaves out (omitempty).
_ABSENT: dict[str, Any] = {name: "" for name in ("reason", "message", "type", "action")}
_ABSENT.update(count=0, involvedObject={}, source={})


def field_of(stored: Mapping[str, Any], name: str) -> Any:
    """A stored field's value as the internal type holds it (read it, never change it)."""
    value = stored.get(name)
    return _ABSENT.get(name) if value is None else value
