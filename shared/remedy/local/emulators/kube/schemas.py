"""Structural schemas of custom resources: defaulting, pruning and validation.

A real apiserver, given a CRD's ``openAPIV3Schema``, fills ``default`` values, drops
fields the schema does not declare (unless ``x-kubernetes-preserve-unknown-fields``)
and rejects values of the wrong type, outside an ``enum`` or missing when
``required``. remedy must not depend on a field the real cluster would silently
prune, so the emulator does the same. Supported keywords: ``type``, ``properties``,
``additionalProperties``, ``items``, ``required``, ``enum``, ``default``,
``nullable``, ``x-kubernetes-preserve-unknown-fields``, ``x-kubernetes-int-or-string``.
Not evaluated: CEL rules, formats, numeric/length bounds, patterns.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from remedy.local.emulators.kube.errors import FieldError

Schema = Mapping[str, Any]
_ROOT_KEEP = ("apiVersion", "kind", "metadata")


def apply_defaults(obj: dict[str, Any], schema: Schema) -> None:
    _default(obj, schema)


def _default(node: Any, schema: Schema) -> None:
    if isinstance(node, dict):
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            if key not in node and "default" in sub:
                node[key] = copy.deepcopy(sub["default"])
            if key in node:
                _default(node[key], sub)
        extra = schema.get("additionalProperties")
        if isinstance(extra, Mapping):
            for key, value in node.items():
                if key not in properties:
                    _default(value, extra)
    elif isinstance(node, list) and isinstance(schema.get("items"), Mapping):
        for item in node:
            _default(item, schema["items"])


def prune(obj: dict[str, Any], schema: Schema) -> list[str]:
    """Drop undeclared fields in place; return their paths (for strict validation)."""
    unknown: list[str] = []
    _prune(obj, schema, "", unknown, root=True)
    return unknown


def _prune(node: Any, schema: Schema, path: str, unknown: list[str], *, root: bool = False) -> None:
    if schema.get("x-kubernetes-preserve-unknown-fields") and not schema.get("properties"):
        return
    if isinstance(node, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        preserve = bool(schema.get("x-kubernetes-preserve-unknown-fields"))
        for key in list(node):
            child = f"{path}.{key}" if path else key
            if root and key in _ROOT_KEEP:
                continue
            if key in properties:
                _prune(node[key], properties[key], child, unknown)
            elif isinstance(extra, Mapping):
                _prune(node[key], extra, child, unknown)
            elif extra is True or preserve:
                continue
            else:
                unknown.append(child)
                del node[key]
    elif isinstance(node, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(node):
            _prune(item, schema["items"], f"{path}[{index}]", unknown)


_TYPE_NAMES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
}


def _type_ok(value: Any, expected: str, schema: Schema) -> bool:
    if schema.get("x-kubernetes-int-or-string"):
        return isinstance(value, int | str) and not isinstance(value, bool)
    if expected == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    python_type = _TYPE_NAMES.get(expected)
    return python_type is None or isinstance(value, python_type)


def validate(obj: Mapping[str, Any], schema: Schema) -> list[FieldError]:
    errors: list[FieldError] = []
    _validate(obj, schema, "", errors, root=True)
    return errors


def _type_error(node: Any, schema: Schema, path: str) -> FieldError | None:
    expected = schema.get("type")
    if not isinstance(expected, str) or not expected:
        return None
    if node is None:
        if schema.get("nullable"):
            return None
        actual = "null"
    elif _type_ok(node, expected, schema):
        return None
    else:
        actual = _json_type(node)
    detail = f'{path or "body"} in body must be of type {expected}: "{actual}"'
    return FieldError(path, "FieldValueTypeInvalid", detail, value=actual)


def _validate(
    node: Any, schema: Schema, path: str, errors: list[FieldError], *, root: bool = False
) -> None:
    type_error = _type_error(node, schema, path)
    if type_error is not None or node is None:
        errors.extend([type_error] if type_error else [])
        return
    enum = schema.get("enum")
    if isinstance(enum, list) and node not in enum:
        supported = ", ".join(_quote(value) for value in enum)
        errors.append(
            FieldError(path, "FieldValueNotSupported", f"supported values: {supported}", value=node)
        )
    if isinstance(node, dict):
        _validate_object(node, schema, path, errors, root=root)
    elif isinstance(node, list) and isinstance(schema.get("items"), Mapping):
        for index, item in enumerate(node):
            _validate(item, schema["items"], f"{path}[{index}]", errors)


def _validate_object(
    node: dict[str, Any], schema: Schema, path: str, errors: list[FieldError], *, root: bool
) -> None:
    for key in schema.get("required") or []:
        if key not in node:
            errors.append(FieldError(f"{path}.{key}" if path else key, "FieldValueRequired", ""))
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties")
    for key, value in node.items():
        if root and key in _ROOT_KEEP:
            continue
        child = f"{path}.{key}" if path else key
        if key in properties:
            _validate(value, properties[key], child, errors)
        elif isinstance(extra, Mapping):
            _validate(value, extra, child, errors)


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _quote(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)
