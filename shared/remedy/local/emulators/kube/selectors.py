"""Label selectors, parsed and matched as the apiserver does.

The label grammar, its tokeniser and every error text follow
k8s.io/apimachinery/pkg/labels (``Parse``): ``=``, ``==``, ``!=``, ``in``, ``notin``,
bare ``key`` (exists), ``!key`` (does not exist), ``gt``/``lt`` via ``>``/``<``.
Clients show these messages verbatim, so a wrong selector reads the same as on a
cluster. Field selectors are in ``fields``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from remedy.local.emulators.kube.errors import bad_request
from remedy.local.emulators.kube.names import label_key_errors, label_value_errors

_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_OPERATOR_TOKENS = {
    ")": "CLOSE",
    ",": "COMMA",
    "!": "NOT",
    "==": "DOUBLE_EQUALS",
    "=": "EQUALS",
    ">": "GT",
    "in": "IN",
    "<": "LT",
    "!=": "NOT_EQUALS",
    "notin": "NOTIN",
    "(": "OPEN",
}
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # "=", "==", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("=", "==", "in"):
            return present and value in self.values
        if self.operator in ("!=", "notin"):
            return not present or value not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if not present or value is None or not re.fullmatch(r"[+-]?\d+", value):
            return False
        bound = int(self.values[0])
        return int(value) > bound if self.operator == "gt" else int(value) < bound


@dataclass(frozen=True)
class LabelSelector:
    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(requirement.matches(labels) for requirement in self.requirements)


def _lex(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(text):
            tokens.append(("END", ""))
            return tokens
        if text[pos] in _SPECIAL:
            # Longest run of special characters that is still a known token ("!=" over "!").
            buffer, token = "", ("", "")
            while pos < len(text) and text[pos] in _SPECIAL:
                candidate = buffer + text[pos]
                if candidate in _OPERATOR_TOKENS:
                    buffer, token = candidate, (_OPERATOR_TOKENS[candidate], candidate)
                    pos += 1
                elif token[0]:
                    break
                else:
                    buffer = candidate
                    pos += 1
            tokens.append(
                token if token[0] else ("ERROR", f"error expected: keyword found '{buffer}'")
            )
            continue
        start = pos
        while pos < len(text) and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        tokens.append((_OPERATOR_TOKENS.get(word, "ID") if word in ("in", "notin") else "ID", word))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.position = 0

    def peek(self, *, values: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[self.position]
        return ("ID", literal) if values and kind in ("IN", "NOTIN") else (kind, literal)

    def take(self, *, values: bool = True) -> tuple[str, str]:
        token = self.peek(values=values)
        self.position += 1
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, literal = self.peek()
            if kind == "END":
                return requirements
            if kind not in ("ID", "NOT"):
                raise ValueError(f"found '{literal}', expected: !, identifier, or 'end of string'")
            try:
                requirements.append(self.requirement())
            except _RequirementError as error:
                raise ValueError(f"unable to parse requirement: {error}") from None
            kind, literal = self.take()
            if kind == "END":
                return requirements
            if kind != "COMMA":
                raise ValueError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in ("ID", "NOT"):
                raise ValueError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator = ""
        kind, key = self.take()
        if kind == "NOT":
            operator = "!"
            kind, key = self.take()
        if kind != "ID":
            raise _RequirementError(f"found '{key}', expected: identifier")
        if errors := label_key_errors(key):
            raise _RequirementError(f'<nil>: Invalid value: "{key}": ' + "; ".join(errors))
        if self.peek()[0] in ("END", "COMMA") and operator != "!":
            operator = "exists"
        if operator in ("exists", "!"):
            return Requirement(key, operator)
        kind, literal = self.take(values=False)
        operators = {
            "IN": "in",
            "NOTIN": "notin",
            "EQUALS": "=",
            "DOUBLE_EQUALS": "==",
            "NOT_EQUALS": "!=",
            "GT": "gt",
            "LT": "lt",
        }
        if kind not in operators:
            raise _RequirementError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        operator = operators[kind]
        values = self.set_values() if operator in ("in", "notin") else self.exact_value()
        return _new_requirement(key, operator, sorted(values))

    def set_values(self) -> set[str]:
        kind, literal = self.take()
        if kind != "OPEN":
            raise _RequirementError(f"found '{literal}' expected: '('")
        kind, literal = self.peek()
        if kind == "CLOSE":
            self.take()
            return {""}
        if kind not in ("ID", "COMMA"):
            raise _RequirementError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        if self.take()[0] != "CLOSE":
            raise _RequirementError(f"found '{literal}', expected: ')'")
        return values

    def identifiers(self) -> set[str]:
        values: set[str] = set()
        while True:
            kind, literal = self.take()
            if kind == "ID":
                values.add(literal)
                next_kind, next_literal = self.peek()
                if next_kind == "CLOSE":
                    return values
                if next_kind != "COMMA":
                    raise _RequirementError(f"found '{next_literal}', expected: ',' or ')'")
            elif kind == "COMMA":
                if not values:
                    values.add("")
                if self.peek()[0] in ("CLOSE", "COMMA"):
                    values.add("")
                    if self.peek()[0] == "CLOSE":
                        return values
            else:
                raise _RequirementError(f"found '{literal}', expected: ',', or identifier")

    def exact_value(self) -> set[str]:
        if self.peek()[0] in ("END", "COMMA"):
            return {""}
        kind, literal = self.take()
        if kind == "ID":
            return {literal}
        raise _RequirementError(f"found '{literal}', expected: identifier")


class _RequirementError(Exception):
    pass


def _new_requirement(key: str, operator: str, values: list[str]) -> Requirement:
    """``labels.NewRequirement``'s value checks, with its field paths."""
    errors: list[str] = []
    if operator in ("gt", "lt"):
        for index, value in enumerate(values):
            if not re.fullmatch(r"[+-]?\d+", value):
                errors.append(
                    f"values[{index}]: Invalid value: \"{value}\": for 'Gt', 'Lt' operators, "
                    "the value must be an integer"
                )
    for index, value in enumerate(values):
        if problems := label_value_errors(value):
            errors.append(
                f'values[{index}][{key}]: Invalid value: "{value}": ' + "; ".join(problems)
            )
    if errors:
        raise _RequirementError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return Requirement(key, operator, tuple(values))


def parse_labels(text: str) -> LabelSelector:
    """Parse ``labelSelector``; a malformed one is a 400 with the apiserver's message."""
    try:
        requirements = _Parser(text).parse()
    except ValueError as error:
        raise bad_request(str(error)) from None
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))
