"""Trigger filters, evaluated the way Knative's broker filter evaluates them.

Two dialects, as in knative/eventing ``pkg/eventfilter``:

- legacy ``spec.filter.attributes``: every listed attribute must exist and equal the
  value; an empty value means "present with any value".
- ``spec.filters`` (the Subscriptions API): ``exact``, ``prefix``, ``suffix``, ``all``,
  ``any`` and ``not``, combined with ``all`` at the top. When both are set, ``filters``
  wins. ``cesql`` is refused at load time (a faithful CESQL engine is a project of its
  own); the error names the Trigger so nobody is surprised at run time.

Results are three-valued (pass, fail, no filter) like Knative's ``FilterResult``: an
empty ``all``/``any`` is "no filter", and only "fail" stops a delivery.

Context attributes Knative always knows (``type``, ``source``, ``subject``, ...) count
as present even when the event leaves them unset, so an ``attributes`` filter of
``subject: ""`` passes every event; only extensions can be missing.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from remedy.local.broker.envelopes import Envelope

ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9]*$")
"""Knative's webhook accepts only these attribute names in filters."""

CONTEXT_ATTRIBUTES = frozenset(
    {
        "specversion",
        "type",
        "source",
        "subject",
        "id",
        "time",
        "dataschema",
        "schemaurl",
        "datacontenttype",
        "datamediatype",
        "datacontentencoding",
    }
)
DIALECTS = ("exact", "prefix", "suffix", "all", "any", "not", "cesql")


class FilterError(ValueError):
    """A Trigger filter the broker will not evaluate; the message names the Trigger."""


class FilterResult(enum.Enum):
    PASS = "pass"  # noqa: S105 - a filter verdict, not a password
    FAIL = "fail"
    NO_FILTER = "no_filter"

    def and_(self, other: FilterResult) -> FilterResult:
        return self.join(other, decisive=FilterResult.FAIL)

    def or_(self, other: FilterResult) -> FilterResult:
        return self.join(other, decisive=FilterResult.PASS)

    def join(self, other: FilterResult, *, decisive: FilterResult) -> FilterResult:
        """Knative's ``And``/``Or``: "no filter" yields to the other side; otherwise
        ``decisive`` (FAIL for and, PASS for or) wins if either side is it."""
        if self is FilterResult.NO_FILTER:
            return other
        if other is FilterResult.NO_FILTER:
            return self
        return decisive if decisive in (self, other) else self


class Filter(Protocol):
    def __call__(self, event: Envelope) -> FilterResult: ...


def lookup(event: Envelope, name: str) -> str | None:
    """An attribute's value as filters see it; ``None`` only for an absent extension."""
    if name not in CONTEXT_ATTRIBUTES:
        return event.get(name)
    if name in ("dataschema", "schemaurl"):
        return event.get("dataschema") or event.get("schemaurl") or ""
    if name == "datamediatype":
        return (event.get("datacontenttype") or "").split(";")[0].strip()
    return event.get(name) or ""


@dataclass(frozen=True)
class NoFilter:
    def __call__(self, event: Envelope) -> FilterResult:
        return FilterResult.NO_FILTER


@dataclass(frozen=True)
class Attributes:
    """Legacy ``filter.attributes``: exact match, empty value = attribute present."""

    expected: Mapping[str, str]

    def __call__(self, event: Envelope) -> FilterResult:
        for name, wanted in self.expected.items():
            value = lookup(event, name)
            if value is None or wanted not in ("", value):
                return FilterResult.FAIL
        return FilterResult.PASS


@dataclass(frozen=True)
class _Match:
    """One attribute against one value (Knative's exact, prefix and suffix filters): an
    absent extension fails, whatever the value."""

    attribute: str
    value: str

    def __call__(self, event: Envelope) -> FilterResult:
        found = lookup(event, self.attribute)
        return (
            FilterResult.PASS if found is not None and self._matches(found) else FilterResult.FAIL
        )

    def _matches(self, found: str) -> bool:
        raise NotImplementedError


class Exact(_Match):
    def _matches(self, found: str) -> bool:
        return found == self.value


class Prefix(_Match):
    def _matches(self, found: str) -> bool:
        return found.startswith(self.value)


class Suffix(_Match):
    def _matches(self, found: str) -> bool:
        return found.endswith(self.value)


@dataclass(frozen=True)
class _Combination:
    """Knative's ``all``/``any``: children joined left to right, stopping at the first
    verdict that decides (FAIL for all, PASS for any); no children is "no filter"."""

    filters: tuple[Filter, ...]
    decisive: ClassVar[FilterResult]

    def __call__(self, event: Envelope) -> FilterResult:
        result = FilterResult.NO_FILTER
        for child in self.filters:
            result = result.join(child(event), decisive=self.decisive)
            if result is self.decisive:
                return result
        return result


class AllOf(_Combination):
    decisive = FilterResult.FAIL


class AnyOf(_Combination):
    decisive = FilterResult.PASS


@dataclass(frozen=True)
class Not:
    filter: Filter | None

    def __call__(self, event: Envelope) -> FilterResult:
        if self.filter is None:
            return FilterResult.NO_FILTER
        result = self.filter(event)
        if result is FilterResult.PASS:
            return FilterResult.FAIL
        if result is FilterResult.FAIL:
            return FilterResult.PASS
        return result


_SINGLE: dict[str, type[_Match]] = {
    "exact": Exact,
    "prefix": Prefix,
    "suffix": Suffix,
}


def _check_name(name: object, *, where: str) -> str:
    if not isinstance(name, str) or not ATTRIBUTE_NAME.match(name):
        raise FilterError(
            f"{where}: invalid attribute name {name!r} (lowercase letters and digits, "
            "starting with a letter)"
        )
    return name


def _single(dialect: str, spec: object, *, where: str) -> Filter:
    if not isinstance(spec, Mapping) or len(spec) != 1:
        raise FilterError(f"{where}: '{dialect}' takes exactly one attribute: value pair")
    ((name, value),) = spec.items()
    _check_name(name, where=where)
    if not isinstance(value, str) or not value:
        raise FilterError(f"{where}: '{dialect}' value for {name!r} must be a non-empty string")
    return _SINGLE[dialect](name, value)


def compile_dialect(spec: object, *, where: str) -> Filter:
    """One entry of ``spec.filters`` (recursively); ``where`` locates it in errors."""
    if not isinstance(spec, Mapping):
        raise FilterError(f"{where}: a filter must be a mapping with one dialect")
    unknown = sorted(set(spec) - set(DIALECTS))
    present = [key for key in DIALECTS if key in spec]
    if unknown or len(present) != 1:
        raise FilterError(
            f"{where}: set exactly one of {', '.join(DIALECTS)} (found {present + unknown})"
        )
    dialect = present[0]
    body = spec[dialect]
    if dialect == "cesql":
        raise FilterError(
            f"{where}: the 'cesql' dialect is not supported by the local broker; "
            "express the filter with exact/prefix/suffix/all/any/not"
        )
    if dialect in _SINGLE:
        return _single(dialect, body, where=where)
    if dialect == "not":
        return Not(compile_dialect(body, where=f"{where}.not"))
    if not isinstance(body, Sequence) or isinstance(body, str) or not body:
        raise FilterError(f"{where}: '{dialect}' needs a non-empty list of filters")
    children = tuple(
        compile_dialect(child, where=f"{where}.{dialect}[{i}]") for i, child in enumerate(body)
    )
    return AllOf(children) if dialect == "all" else AnyOf(children)


def _compile_attributes(spec: object, *, where: str) -> Filter:
    if spec is None:
        return Attributes({})
    if not isinstance(spec, Mapping) or set(spec) - {"attributes"}:
        raise FilterError(f"{where}: the legacy 'filter' takes only 'attributes'")
    attributes = spec.get("attributes") or {}
    if not isinstance(attributes, Mapping):
        raise FilterError(f"{where}.attributes must be a mapping")
    expected: dict[str, str] = {}
    for name, raw in attributes.items():
        _check_name(name, where=f"{where}.attributes")
        value = "" if raw is None else raw
        if not isinstance(value, str):
            raise FilterError(f"{where}.attributes.{name} must be a string, got {value!r}")
        expected[name] = value
    return Attributes(expected)


def compile_trigger(spec: Mapping[str, object], *, trigger: str) -> Filter:
    """The filter of a Trigger ``spec``; errors name the Trigger."""
    filters = spec.get("filters")
    if filters is not None and (not isinstance(filters, Sequence) or isinstance(filters, str)):
        raise FilterError(f"Trigger {trigger!r}: spec.filters must be a list")
    if filters:
        children = tuple(
            compile_dialect(child, where=f"Trigger {trigger!r}: spec.filters[{i}]")
            for i, child in enumerate(filters)
        )
        return children[0] if len(children) == 1 else AllOf(children)
    if "filter" in spec:
        return _compile_attributes(spec["filter"], where=f"Trigger {trigger!r}: spec.filter")
    return NoFilter()
