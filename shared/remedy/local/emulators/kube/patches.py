"""The patch formats the apiserver accepts, applied to plain JSON documents.

- JSON merge patch (RFC 7386): objects merge, ``null`` deletes, anything else replaces.
- JSON patch (RFC 6902): add, remove, replace, move, copy and test, with JSON pointers.
- Strategic merge patch, the subset remedy's built-in kinds need. ConfigMaps, Secrets,
  Leases, Events and Namespaces have no list that merges by key except in
  ``metadata``, so the subset is: merge-patch semantics, plus the ``$patch``
  (``replace``/``delete``/``merge``), ``$retainKeys``, ``$deleteFromPrimitiveList/…``
  and (ignored, order only) ``$setElementOrder/…`` directives, plus the two merging
  lists of ``ObjectMeta``: ``finalizers`` (a set union) and ``ownerReferences``
  (merged by ``uid``). Every other list is replaced, as the real server does for
  lists without a ``patchStrategy`` tag. Pod-style ``containers`` merging is not needed.

Errors are :class:`PatchError` with a message; the API layer turns them into the
status codes the real server uses.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any


class PatchError(Exception):
    """A patch that does not apply (the caller picks 400 or 422)."""


# --- RFC 7386 ---------------------------------------------------------------------


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- RFC 6902 ---------------------------------------------------------------------


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f'JSON pointer must be empty or start with a "/": "{path}"')
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _index(container: list[Any], part: str, *, allow_end: bool, path: str) -> int:
    if allow_end and part == "-":
        return len(container)
    if not part.isdigit() or (len(part) > 1 and part.startswith("0")):
        raise PatchError(f"invalid index {part!r} in path {path}")
    index = int(part)
    if index > len(container) or (index == len(container) and not allow_end):
        raise PatchError(f"index {index} out of bounds in path {path}")
    return index


def _parent(doc: Any, parts: list[str], path: str) -> Any:
    node = doc
    for token in parts[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_index(node, token, allow_end=False, path=path)]
        else:
            raise PatchError(f'doc is missing path: "{path}": missing value')
    return node


def _get(doc: Any, path: str) -> Any:
    parts = _pointer(path)
    if not parts:
        return doc
    parent = _parent(doc, parts, path)
    token = parts[-1]
    if isinstance(parent, dict) and token in parent:
        return parent[token]
    if isinstance(parent, list):
        return parent[_index(parent, token, allow_end=False, path=path)]
    raise PatchError(f'doc is missing path: "{path}": missing value')


def _add(doc: Any, path: str, value: Any) -> Any:
    parts = _pointer(path)
    if not parts:
        return value
    parent = _parent(doc, parts, path)
    token = parts[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, allow_end=True, path=path), value)
    else:
        raise PatchError(f'doc is missing path: "{path}": missing value')
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    parts = _pointer(path)
    if not parts:
        raise PatchError("unable to remove the whole document")
    parent = _parent(doc, parts, path)
    token = parts[-1]
    if isinstance(parent, dict) and token in parent:
        return doc, parent.pop(token)
    if isinstance(parent, list):
        return doc, parent.pop(_index(parent, token, allow_end=False, path=path))
    raise PatchError(f'doc is missing path: "{path}": missing value')


def json_equal(left: Any, right: Any) -> bool:
    """JSON equality: ``true`` is not ``1``, ``1`` is ``1.0``, objects ignore key order."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and bool(left == right)


def validate_json_patch(operations: Any) -> list[dict[str, Any]]:
    """The decode step: a list of objects, each with a known ``op`` and a ``path``."""
    if not isinstance(operations, list):
        kind = "object" if isinstance(operations, dict) else type(operations).__name__
        raise PatchError(f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch")
    for operation in operations:
        if not isinstance(operation, dict):
            raise PatchError("json: cannot unmarshal into Go value of type jsonpatch.Operation")
    return operations


def _op_add(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    return _add(doc, path, copy.deepcopy(operation["value"]))


def _op_remove(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    return _remove(doc, path)[0]


def _op_replace(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    _get(doc, path)
    if _pointer(path):
        doc, _ = _remove(doc, path)
    return _add(doc, path, copy.deepcopy(operation["value"]))


def _source(operation: dict[str, Any]) -> str:
    source = operation.get("from")
    if not isinstance(source, str):
        raise PatchError(f"{operation.get('op')} operation missing from")
    return source


def _op_move(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    doc, moved = _remove(doc, _source(operation))
    return _add(doc, path, moved)


def _op_copy(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    return _add(doc, path, copy.deepcopy(_get(doc, _source(operation))))


def _op_test(doc: Any, path: str, operation: dict[str, Any]) -> Any:
    try:
        current = _get(doc, path)
    except PatchError:
        current = None
    if not json_equal(current, operation["value"]):
        raise PatchError(f"testing value {path} failed: test failed")
    return doc


_OPERATIONS: dict[str, Callable[[Any, str, dict[str, Any]], Any]] = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move,
    "copy": _op_copy,
    "test": _op_test,
}


def json_patch(doc: Any, operations: list[dict[str, Any]]) -> Any:
    doc = copy.deepcopy(doc)
    for operation in operations:
        op = operation.get("op")
        path = operation.get("path")
        apply = _OPERATIONS.get(op) if isinstance(op, str) else None
        if apply is None:
            raise PatchError(f"Unexpected kind: {op}")
        if not isinstance(path, str):
            raise PatchError(f"{op} operation missing path")
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"{op} operation missing value")
        doc = apply(doc, path, operation)
    return doc


# --- strategic merge (subset) -----------------------------------------------------

# Lists of ObjectMeta that merge rather than replace: path -> merge key (None: a set).
_MERGING_LISTS: dict[tuple[str, ...], str | None] = {
    ("metadata", "finalizers"): None,
    ("metadata", "ownerReferences"): "uid",
}


def strategic_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        raise PatchError("strategic merge patch must be a JSON object")
    return _smp_map(target if isinstance(target, dict) else {}, patch, ())


def _smp_map(target: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    directive = patch.get("$patch")
    body = {key: value for key, value in patch.items() if key != "$patch"}
    if directive == "replace":
        return _strip_directives(body)
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise PatchError(f"Unknown patch type: {directive} in map: {patch}")
    result = copy.deepcopy(target)
    retain = body.pop("$retainKeys", None)
    for key, value in body.items():
        if key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            _delete_from_list(result, key.split("/", 1)[1], value)
        elif value is None:
            result.pop(key, None)
        else:
            _smp_set(result, key, value, (*path, key))
    if isinstance(retain, list):
        result = {key: value for key, value in result.items() if key in retain}
    return result


def _delete_from_list(result: dict[str, Any], field: str, values: Any) -> None:
    if isinstance(result.get(field), list) and isinstance(values, list):
        result[field] = [item for item in result[field] if item not in values]


def _smp_set(result: dict[str, Any], key: str, value: Any, path: tuple[str, ...]) -> None:
    current = result.get(key)
    if isinstance(value, dict):
        merged = _smp_map(current if isinstance(current, dict) else {}, value, path)
        if merged is None:
            result.pop(key, None)
        else:
            result[key] = merged
    elif isinstance(value, list) and path in _MERGING_LISTS:
        result[key] = _smp_list(current or [], value, _MERGING_LISTS[path])
    else:
        result[key] = _strip_directives(copy.deepcopy(value))


def _smp_list(current: list[Any], patch: list[Any], merge_key: str | None) -> list[Any]:
    result = copy.deepcopy(current)
    if merge_key is None:
        result.extend(item for item in patch if item not in result)
        return result
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchError(f"map: {item} does not contain declared merge key: {merge_key}")
        matches = [
            i for i, existing in enumerate(result) if existing.get(merge_key) == item[merge_key]
        ]
        if item.get("$patch") == "delete":
            result = [e for e in result if e.get(merge_key) != item[merge_key]]
        elif matches:
            result[matches[0]] = _smp_map(result[matches[0]], item, ())
        else:
            result.append(_strip_directives(item))
    return result


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip_directives(item) for key, item in value.items() if not key.startswith("$")
        }
    if isinstance(value, list):
        return [_strip_directives(item) for item in value]
    return value


def apply_patch(target: Any, applied: Any) -> Any:
    """Server-side apply, simplified: the applied fields win, nothing is removed.

    Real apply tracks field ownership (managedFields) and removes fields a manager
    stops applying; the emulator does not record managers, so it only sets fields.
    """
    if not isinstance(applied, dict):
        raise PatchError("apply patch must be a YAML or JSON object")
    if not isinstance(target, dict):
        return copy.deepcopy(applied)
    result = copy.deepcopy(target)
    for key, value in applied.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = apply_patch(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result
