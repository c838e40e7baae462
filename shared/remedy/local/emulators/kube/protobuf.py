"""Decode the protobuf request bodies kubectl sends for built-in kinds.

``kubectl create namespace|configmap|secret|serviceaccount`` go through client-go's
typed clientset, which sends ``application/vnd.kubernetes.protobuf``: the bytes
``k8s\\0``, then a ``runtime.Unknown`` message carrying the TypeMeta and the object's
own protobuf encoding. A real apiserver accepts that for every built-in kind; the
emulator decodes those four kinds (with ObjectMeta) into the JSON object the rest
of the server works on, and answers 415 for anything else. Responses stay JSON,
which the same clients accept as their second choice.

Go's JSON encoding omits empty strings and zero counters (``omitempty``) while its
protobuf encoding writes them, so empty strings and zero integers are dropped here.
"""

from __future__ import annotations

import base64
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from remedy.local.emulators.kube import errors

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

Field = tuple[str, str, Any]  # (JSON name, kind, nested schema)
Schema = Mapping[int, Field]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.position = 0

    def varint(self) -> int:
        result, shift = 0, 0
        while True:
            if self.position >= len(self.data):
                raise ValueError("truncated varint")
            byte = self.data[self.position]
            self.position += 1
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def fields(self) -> list[tuple[int, int, Any]]:
        found = []
        while self.position < len(self.data):
            key = self.varint()
            number, wire = key >> 3, key & 7
            if wire == 0:
                value: Any = self.varint()
            elif wire == 2:
                length = self.varint()
                value = self.data[self.position : self.position + length]
                if len(value) != length:
                    raise ValueError("truncated field")
                self.position += length
            elif wire == 1:
                value, self.position = (
                    self.data[self.position : self.position + 8],
                    self.position + 8,
                )
            elif wire == 5:
                value, self.position = (
                    self.data[self.position : self.position + 4],
                    self.position + 4,
                )
            else:
                raise ValueError(f"unsupported wire type {wire}")
            found.append((number, wire, value))
        return found


def _time(data: bytes) -> str | None:
    values = {number: value for number, _, value in _Reader(data).fields()}
    seconds = values.get(1, 0)
    if not seconds:
        return None
    moment = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _map_entry(data: bytes, *, binary: bool) -> tuple[str, str]:
    values = {number: value for number, _, value in _Reader(data).fields()}
    key = bytes(values.get(1, b"")).decode()
    raw = bytes(values.get(2, b""))
    return key, base64.b64encode(raw).decode() if binary else raw.decode()


def _scalar(kind: str, value: Any) -> Any:
    converters: dict[str, Callable[[Any], Any]] = {
        "string": lambda v: bytes(v).decode(),
        "bytes": lambda v: base64.b64encode(bytes(v)).decode(),
        "int": lambda v: v - (1 << 64) if v >= 1 << 63 else v,
        "bool": bool,
    }
    return converters[kind](value)


def decode_message(data: bytes, schema: Schema) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for number, _, value in _Reader(data).fields():
        if number not in schema:
            continue
        name, kind, nested = schema[number]
        if kind == "message":
            result[name] = decode_message(value, nested)
        elif kind == "time":
            stamp = _time(value)
            if stamp:
                result[name] = stamp
        elif kind in ("map", "binary-map"):
            key, item = _map_entry(value, binary=kind == "binary-map")
            result.setdefault(name, {})[key] = item
        elif kind == "repeated-string":
            result.setdefault(name, []).append(bytes(value).decode())
        elif kind == "repeated-message":
            result.setdefault(name, []).append(decode_message(value, nested))
        else:
            converted = _scalar(kind, value)
            if converted == "" or (kind == "int" and converted == 0 and nested != "keep"):
                continue
            result[name] = converted
    return result


OWNER_REFERENCE: Schema = {
    1: ("kind", "string", None),
    3: ("name", "string", None),
    4: ("uid", "string", None),
    5: ("apiVersion", "string", None),
    6: ("controller", "bool", None),
    7: ("blockOwnerDeletion", "bool", None),
}
OBJECT_META: Schema = {
    1: ("name", "string", None),
    2: ("generateName", "string", None),
    3: ("namespace", "string", None),
    5: ("uid", "string", None),
    6: ("resourceVersion", "string", None),
    7: ("generation", "int", None),
    8: ("creationTimestamp", "time", None),
    9: ("deletionTimestamp", "time", None),
    10: ("deletionGracePeriodSeconds", "int", "keep"),
    11: ("labels", "map", None),
    12: ("annotations", "map", None),
    13: ("ownerReferences", "repeated-message", OWNER_REFERENCE),
    14: ("finalizers", "repeated-string", None),
}
OBJECT_REFERENCE: Schema = {
    1: ("kind", "string", None),
    2: ("namespace", "string", None),
    3: ("name", "string", None),
    4: ("uid", "string", None),
    5: ("apiVersion", "string", None),
    6: ("resourceVersion", "string", None),
    7: ("fieldPath", "string", None),
}
KINDS: dict[str, Schema] = {
    "Namespace": {
        1: ("metadata", "message", OBJECT_META),
        2: ("spec", "message", {1: ("finalizers", "repeated-string", None)}),
        3: ("status", "message", {1: ("phase", "string", None)}),
    },
    "ConfigMap": {
        1: ("metadata", "message", OBJECT_META),
        2: ("data", "map", None),
        3: ("binaryData", "binary-map", None),
        4: ("immutable", "bool", None),
    },
    "Secret": {
        1: ("metadata", "message", OBJECT_META),
        2: ("data", "binary-map", None),
        3: ("type", "string", None),
        4: ("stringData", "map", None),
        5: ("immutable", "bool", None),
    },
    "ServiceAccount": {
        1: ("metadata", "message", OBJECT_META),
        2: ("secrets", "repeated-message", OBJECT_REFERENCE),
        3: ("imagePullSecrets", "repeated-message", {1: ("name", "string", None)}),
        4: ("automountServiceAccountToken", "bool", None),
    },
}
_TYPE_META: Schema = {1: ("apiVersion", "string", None), 2: ("kind", "string", None)}
_UNKNOWN: Schema = {1: ("typeMeta", "message", _TYPE_META), 2: ("raw", "bytes", None)}


def decode(body: bytes, accepted: list[str]) -> dict[str, Any]:
    """The JSON form of a protobuf-encoded object, or 415 if this kind is not known."""
    if not body.startswith(MAGIC):
        raise errors.bad_request("provided protobuf data does not start with the k8s magic prefix")
    try:
        envelope = decode_message(body[len(MAGIC) :], _UNKNOWN)
        type_meta = envelope.get("typeMeta", {})
        schema = KINDS.get(type_meta.get("kind", ""))
        if schema is None or type_meta.get("apiVersion") != "v1":
            raise errors.unsupported_media_type(accepted)
        obj = decode_message(base64.b64decode(envelope.get("raw", "")), schema)
    except ValueError as error:
        raise errors.bad_request(f"unable to decode protobuf body: {error}") from None
    return {"apiVersion": "v1", "kind": type_meta["kind"], **obj}
