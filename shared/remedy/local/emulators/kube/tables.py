"""Server-side ``Table`` output, which ``kubectl get`` requests and prints.

kubectl asks for ``application/json;as=Table;g=meta.k8s.io;v=v1`` and prints the
columns the server chooses: a custom resource's ``additionalPrinterColumns``
(``Age`` alone when it declares none), or a built-in kind's usual columns — for
Events, the apiserver's Event printer (``events.printing``). Cells follow the
apiextensions table convertor: strings as printed by JSONPath, integers and numbers
as numbers, ``date`` columns as a human-readable age ("5m", "3h2m"). With
``includeObject=Object`` each row carries the object in the requested version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from remedy.local.emulators.kube import versions
from remedy.local.emulators.kube.durations import since
from remedy.local.emulators.kube.events import printing
from remedy.local.emulators.kube.resources import PrinterColumn, ResourceType
from remedy.local.emulators.kube.store import Stored

_NAME_COLUMN = {
    "name": "Name",
    "type": "string",
    "format": "name",
    "description": "Name must be unique within a namespace. Is required when creating "
    "resources, although some resources may allow a client to request the generation of an "
    "appropriate name automatically. Name is primarily intended for creation idempotence and "
    "configuration definition. Cannot be updated. More info: "
    "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    "priority": 0,
}
_PATH_TOKEN = re.compile(r"\.([A-Za-z0-9_\-$]+)|\[(\d+)\]|\['([^']*)'\]|\[\"([^\"]*)\"\]")


def lookup(obj: Any, path: str) -> Any:
    """A simple JSONPath (``.a.b``, ``.a[0]``, ``.a['b.c']``), missing → None."""
    node = obj
    for match in _PATH_TOKEN.finditer(path):
        key, index, quoted, double = match.groups()
        if index is not None:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        else:
            name = key if key is not None else (quoted if quoted is not None else double)
            node = node.get(name) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _data_count(obj: dict[str, Any]) -> int:
    return len(obj.get("data") or {}) + len(obj.get("binaryData") or {})


# Built-in columns that are computed rather than read at a JSONPath.
_COMPUTED: dict[str, Callable[[dict[str, Any]], Any]] = {
    "@data": _data_count,
}


def _typed(column_type: str, value: Any) -> Any:
    """``cellForJSONValue``: numbers stay numbers; anything else of the wrong type is empty."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if column_type == "integer":
        return int(value) if number else None
    if column_type == "number":
        return float(value) if number else None
    if column_type == "boolean":
        return value if isinstance(value, bool) else None
    if isinstance(value, str):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value).lower() if isinstance(value, bool) else str(value)


def _cell(column: PrinterColumn, obj: dict[str, Any]) -> Any:
    computed = _COMPUTED.get(column.json_path)
    if computed is not None:
        return computed(obj)
    value = lookup(obj, column.json_path)
    if value is None:
        return None
    if column.type == "date":
        return since(value)
    return _typed(column.type, value)


def column_definitions(resource: ResourceType) -> list[dict[str, Any]]:
    if versions.is_event(resource):
        return printing.column_definitions()
    columns = [dict(_NAME_COLUMN)]
    for column in resource.printer_columns:
        definition: dict[str, Any] = {
            "name": column.name,
            "type": "string" if column.json_path.startswith("@") else column.type,
            "format": column.format,
            "description": column.description
            or f"Custom resource definition column (in JSONPath format): {column.json_path}",
            "priority": column.priority,
        }
        columns.append(definition)
    return columns


def _row(resource: ResourceType, record: Stored, include: str) -> dict[str, Any]:
    obj = record.obj
    if versions.is_event(resource):
        cells = printing.cells(obj)
    else:
        cells = [record.name, *(_cell(column, obj) for column in resource.printer_columns)]
    row: dict[str, Any] = {"cells": cells}
    if include == "Object":
        row["object"] = versions.served(obj, resource)
    elif include != "None":
        row["object"] = {
            "kind": "PartialObjectMetadata",
            "apiVersion": "meta.k8s.io/v1",
            "metadata": obj["metadata"],
        }
    return row


def table(
    resource: ResourceType,
    records: Iterable[Stored],
    *,
    resource_version: int | str,
    include: str = "Metadata",
    continue_token: str = "",
    headers: bool = True,
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": str(resource_version)}
    if continue_token:
        metadata["continue"] = continue_token
    body: dict[str, Any] = {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata}
    if headers:
        body["columnDefinitions"] = column_definitions(resource)
    body["rows"] = [_row(resource, record, include) for record in records]
    return body
