"""Field selectors, parsed and matched as the apiserver does.

The syntax follows k8s.io/apimachinery/pkg/fields (``=``, ``==``, ``!=``, terms
joined by commas, ``\\`` escapes); which fields a kind can select on follows each
kind's field label conversion (custom resources: ``metadata.name`` and, when
namespaced, ``metadata.namespace``), with the real server's error texts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from remedy.local.emulators.kube.errors import bad_request

_FIELD_OPERATORS = ("!=", "==", "=")
_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
EXTRA_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("", "namespaces"): ("status.phase",),
    ("", "secrets"): ("type",),
    ("", "events"): (
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    ),
}


@dataclass(frozen=True)
class FieldSelector:
    terms: tuple[tuple[str, str, str], ...] = ()  # (field, operator, value)

    def matches(self, obj: Mapping[str, object]) -> bool:
        for name, operator, value in self.terms:
            equal = field_value(obj, name) == value
            if equal != (operator != "!="):
                return False
        return True


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
    """Parse ``fieldSelector`` and check each field is one this kind can select on."""
    terms: list[tuple[str, str, str]] = []
    for part in sorted(_split_unescaped(text, ",")):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        name, operator, value = split
        terms.append((name, operator, _unescape(value)))
    for name, _, _ in terms:
        _check_field(name, group=group, plural=plural, builtin=builtin, namespaced=namespaced)
    return FieldSelector(tuple(terms))


def _check_field(name: str, *, group: str, plural: str, builtin: bool, namespaced: bool) -> None:
    if not builtin:
        if name == "metadata.name" or (namespaced and name == "metadata.namespace"):
            return
        raise bad_request(f"field label not supported: {name}")
    extra = EXTRA_FIELDS.get((group, plural))
    if extra is None:
        if name not in _COMMON_FIELDS:
            known = '"metadata.name", "metadata.namespace"'
            raise bad_request(f'"{name}" is not a known field selector: only {known}')
        return
    if name not in (*_COMMON_FIELDS, *extra):
        raise bad_request(f"field label not supported: {name}")


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
