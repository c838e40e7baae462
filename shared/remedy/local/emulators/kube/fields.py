"""Field selectors, parsed and matched as the apiserver does.

The syntax follows k8s.io/apimachinery/pkg/fields (``=``, ``==``, ``!=``, terms
joined by commas, ``\\`` escapes); which fields a kind can select on follows each
kind's field label conversion (custom resources: ``metadata.name`` and, when
namespaced, ``metadata.namespace``; Events: see ``events.selection``), with the real
server's error texts. Labels are converted to the field they select when parsed, so
matching reads one set of fields whichever version the request named.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from remedy.local.emulators.kube.errors import bad_request
from remedy.local.emulators.kube.events import selection

_FIELD_OPERATORS = ("!=", "==", "=")
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
# Built-in kinds with more labels than the common two: label → the field it selects.
_LABELS: dict[tuple[str, str], Mapping[str, str]] = {
    ("", "namespaces"): {name: name for name in (*_COMMON_FIELDS, "status.phase")},
    ("", "secrets"): {name: name for name in (*_COMMON_FIELDS, "type")},
    ("", "events"): selection.CORE_LABELS,
    ("events.k8s.io", "events"): selection.EVENTS_LABELS,
}
# Kinds whose selectable fields are computed rather than read at their paths.
_SELECTABLE: dict[tuple[str, str], Callable[[Mapping[str, Any]], Mapping[str, str]]] = {
    ("", "events"): selection.selectable,
    ("events.k8s.io", "events"): selection.selectable,
}


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, str, str], ...] = ()  # (field, operator, value)
    # The kind's selectable fields of an object; None: read each field at its path.
    selectable: Callable[[Mapping[str, Any]], Mapping[str, str]] | None = field(
        default=None, compare=False
    )

    def matches(self, obj: Mapping[str, Any]) -> bool:
        values = self.selectable(obj) if self.selectable is not None else None
        for name, operator, value in self.terms:
            actual = values.get(name, "") if values is not None else field_value(obj, name)
            if (actual == value) != (operator != "!="):
                return False
        return True

    def with_name(self, name: str) -> FieldSelector:
        """This selector narrowed to one object (a watch on ``…/<plural>/<name>``)."""
        return replace(self, terms=(*self.terms, ("metadata.name", "=", name)))


def _split_unescaped(text: str, separator: str) -> list[str]:
    parts, current, escaped = [], [], False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _split_term(term: str) -> tuple[str, str, str] | None:
    index, escaped = 0, False
    while index < len(term):
        if escaped:
            escaped = False
        elif term[index] == "\\":
            escaped = True
        else:
            for operator in _FIELD_OPERATORS:
                if term.startswith(operator, index):
                    return term[:index], operator, term[index + len(operator) :]
        index += 1
    return None


def _unescape(value: str) -> str:
    out, escaped = [], False
    for char in value:
        if escaped:
            if char not in "\\,=":
                raise bad_request(f"invalid field selector: invalid escape sequence: \\{char}")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in ",=":
            raise bad_request(f"invalid field selector: unescaped character {char}")
        else:
            out.append(char)
    return "".join(out)


def parse_fields(
    text: str, *, group: str, plural: str, builtin: bool, namespaced: bool
) -> FieldSelector:
    """Parse ``fieldSelector``, check each field is one this kind can select on, and
    convert each label to the field it selects (``regarding.name`` →
    ``involvedObject.name`` for ``events.k8s.io``)."""
    terms: list[tuple[str, str, str]] = []
    for part in sorted(_split_unescaped(text, ",")):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name, operator, value = split
        terms.append((name, operator, _unescape(value)))
    converted = tuple(
        (
            _check_field(name, group=group, plural=plural, builtin=builtin, namespaced=namespaced),
            operator,
            value,
        )
        for name, operator, value in terms
    )
    return FieldSelector(converted, _SELECTABLE.get((group, plural)))


def _check_field(name: str, *, group: str, plural: str, builtin: bool, namespaced: bool) -> str:
    if not builtin:
        if name == "metadata.name" or (namespaced and name == "metadata.namespace"):
            return name
        raise bad_request(f"field label not supported: {name}")
    labels = _LABELS.get((group, plural))
    if labels is None:
        if name not in _COMMON_FIELDS:
            known = '"metadata.name", "metadata.namespace"'
            raise bad_request(f'"{name}" is not a known field selector: only {known}')
        return name
    if name not in labels:
        raise bad_request(f"field label not supported: {name}")
    return labels[name]


def field_value(obj: Mapping[str, object], path: str) -> str:
    """The string a field selector compares against (missing fields read as "")."""
    node: object = obj
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return ""
        node = node.get(part)
    if node is None:
        return ""
    return str(node)
