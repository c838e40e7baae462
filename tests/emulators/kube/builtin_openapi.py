"""Regenerate the emulator's OpenAPI definitions of built-in kinds from Kubernetes 1.37.

The emulator publishes, under ``/openapi/v2`` and ``/openapi/v3``, the definitions a
real 1.37 apiserver publishes for the built-in kinds it serves (and what they refer
to: ``ObjectMeta``, ``Time``, ``Status``, ``JSONSchemaProps``…). They ship as data in
``remedy/local/emulators/kube/openapi/builtins.json``; this module derives that file from
the Kubernetes 1.37 schemas the ``kubernetes-validate`` dev dependency carries, by
undoing that package's JSON-Schema conversion (``"type": [t, "null"]`` → ``t``, refs
under ``#/$defs/`` → ``#/definitions/``, and the ``enum`` it adds to each kind's
``apiVersion``/``kind``). ``test_openapi_v2`` checks the shipped file is exactly this
output; ``python -m tests.emulators.kube.builtin_openapi`` rewrites it.
"""

from __future__ import annotations

import json
import sys
from importlib import resources as package_files
from pathlib import Path
from typing import Any

from remedy.local.emulators.kube.resources import BUILTINS

SHIPPED = Path(__file__).resolve().parents[3] / (
    "shared/remedy/local/emulators/kube/openapi/builtins.json"
)
# Referenced by the operations of every resource (responses, request bodies).
_EXTRA_ROOTS = (
    "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Patch",
    "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
)
_SOURCE_PREFIX = "#/$defs/"
_PREFIX = "#/definitions/"


def _source() -> dict[str, Any]:
    folder = package_files.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / "v1.37.0-local" / "_definitions.json").read_text(encoding="utf-8")
    definitions: dict[str, Any] = json.loads(text)["$defs"]
    return definitions


def _served_kinds() -> set[tuple[str, str, str]]:
    kinds = set()
    for resource in BUILTINS:
        kinds.add((resource.group, resource.version, resource.kind))
        kinds.add((resource.group, resource.version, resource.list_kind))
    return kinds


def _gvks(definition: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (entry["group"], entry["version"], entry["kind"])
        for entry in definition.get("x-kubernetes-group-version-kind", [])
    }


def _restore(node: Any, *, kind_root: bool = False) -> Any:
    """The swagger form of one converted schema node."""
    if isinstance(node, list):
        return [_restore(item) for item in node]
    if not isinstance(node, dict):
        return node
    if "oneOf" in node or "anyOf" in node:
        raise ValueError(f"cannot restore a union schema: {node}")
    restored: dict[str, Any] = {}
    for key, value in node.items():
        if key == "type" and isinstance(value, list):
            restored[key] = next(t for t in value if t != "null")
        elif key == "$ref":
            restored[key] = _PREFIX + value.removeprefix(_SOURCE_PREFIX)
        elif key == "properties":
            restored[key] = {
                name: _restore_property(name, sub, kind_root=kind_root)
                for name, sub in value.items()
            }
        elif key in ("items", "additionalProperties"):
            restored[key] = _restore(value)
        else:
            restored[key] = value
    return restored


def _restore_property(name: str, node: Any, *, kind_root: bool) -> Any:
    restored = _restore(node)
    if kind_root and name in ("apiVersion", "kind") and isinstance(restored, dict):
        restored.pop("enum", None)
    return restored


def _references(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                found.add(value.removeprefix(_SOURCE_PREFIX))
            else:
                found |= _references(value)
    elif isinstance(node, list):
        for item in node:
            found |= _references(item)
    return found


def generate() -> dict[str, Any]:
    """The definitions of the served built-in kinds, their lists, and all they use."""
    source = _source()
    wanted = _served_kinds()
    pending = [name for name, body in source.items() if _gvks(body) & wanted]
    pending.extend(_EXTRA_ROOTS)
    chosen: dict[str, Any] = {}
    while pending:
        name = pending.pop()
        if name in chosen:
            continue
        body = source[name]
        chosen[name] = _restore(body, kind_root=bool(_gvks(body)))
        pending.extend(sorted(_references(body) - chosen.keys()))
    return dict(sorted(chosen.items()))


def render() -> str:
    return json.dumps(generate(), indent=1, sort_keys=True) + "\n"


if __name__ == "__main__":
    SHIPPED.write_text(render(), encoding="utf-8")
    print(f"wrote {SHIPPED}", file=sys.stderr)
