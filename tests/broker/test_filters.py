"""Trigger filter semantics, with cases ported from knative/eventing's own tests.

Covers:
- legacy ``filter.attributes`` (pkg/eventfilter/attributes/filter_test.go): exact
  match, an empty value means "present", extensions, a missing extension fails,
  context attributes always count as present;
- ``filters`` dialects (pkg/eventfilter/subscriptionsapi/*_test.go): exact, prefix and
  suffix on type, source and extensions including missing attributes; several filters
  combined (top-level all); all/any flat and nested; not; three-valued "no filter";
- compiling a Trigger spec: ``filters`` wins over ``filter``, no filter passes, and
  every malformed filter (cesql, two dialects, multi-key exact, empty value, bad
  attribute name, empty all/any) is an error naming the Trigger.
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.local.broker.envelopes import Envelope
from remedy.local.broker.filters import (
    AllOf,
    AnyOf,
    Attributes,
    Exact,
    Filter,
    FilterError,
    FilterResult,
    Not,
    Prefix,
    Suffix,
    compile_trigger,
)

PASS, FAIL, NO = FilterResult.PASS, FilterResult.FAIL, FilterResult.NO_FILTER

# subscriptionsapi tests' event
TYPE, SOURCE, EXT, EXT_VALUE = (
    "dev.knative.example",
    "knativesource",
    "myextension",
    "my-extension-value",
)
# attributes tests' event
OLD_TYPE, OLD_SOURCE = "com.example.someevent", "/mycontext"


def event(event_type: str = TYPE, source: str = SOURCE, **extensions: str) -> Envelope:
    return Envelope(
        {"specversion": "1.0", "id": "1234", "type": event_type, "source": source, **extensions}
    )


def with_ext(event_type: str = TYPE, source: str = SOURCE) -> Envelope:
    return event(event_type, source, **{EXT: EXT_VALUE})


def constant(result: FilterResult) -> Filter:
    return lambda _: result


P, F = constant(PASS), constant(FAIL)


@pytest.mark.parametrize(
    ("name", "attributes", "subject", "want"),
    [
        (
            "wrong type",
            {"type": "some-other-type", "source": ""},
            event(OLD_TYPE, OLD_SOURCE),
            FAIL,
        ),
        (
            "wrong source",
            {"type": "", "source": "some-other-source"},
            event(OLD_TYPE, OLD_SOURCE),
            FAIL,
        ),
        ("any", {"type": "", "source": ""}, event(OLD_TYPE, OLD_SOURCE), PASS),
        ("specific", {"type": OLD_TYPE, "source": OLD_SOURCE}, event(OLD_TYPE, OLD_SOURCE), PASS),
        (
            "extension with attribs",
            {"type": OLD_TYPE, "source": OLD_SOURCE, EXT: EXT_VALUE},
            with_ext(OLD_TYPE, OLD_SOURCE),
            PASS,
        ),
        (
            "any with attribs - arrival extension",
            {"type": "", "source": ""},
            event(OLD_TYPE, OLD_SOURCE, knativearrivaltime="2019-08-26T23:38:17.834384404Z"),
            PASS,
        ),
        (
            "wrong extension with attribs",
            {"type": OLD_TYPE, "source": OLD_SOURCE, EXT: "some-other-extension-value"},
            with_ext(OLD_TYPE, OLD_SOURCE),
            FAIL,
        ),
        ("empty value: extension present", {EXT: ""}, with_ext(), PASS),
        ("empty value: extension missing", {EXT: ""}, event(), FAIL),
        ("extension missing", {EXT: EXT_VALUE}, event(), FAIL),
        ("context attribute always present", {"subject": ""}, event(), PASS),
        ("unset context attribute has no value", {"subject": "x"}, event(), FAIL),
        ("exact match is case-sensitive", {"type": TYPE.upper()}, event(), FAIL),
        ("no attributes", {}, event(), PASS),
    ],
)
def test_legacy_attributes(
    name: str, attributes: dict[str, str], subject: Envelope, want: FilterResult
) -> None:
    assert Attributes(attributes)(subject) is want, name


@pytest.mark.parametrize(
    ("dialect", "attribute", "value", "subject", "want"),
    [
        # exact_filter_test.go
        (Exact, "type", "some-other-type", event(), FAIL),
        (Exact, "source", "some-other-source", event(), FAIL),
        (Exact, EXT, "some-other-extension", event(), FAIL),
        (Exact, "type", TYPE, event(), PASS),
        (Exact, EXT, EXT_VALUE, with_ext(), PASS),
        # prefix_filter_test.go
        (Prefix, "some-other-attribute", "wrong.prefix", event(), FAIL),
        (Prefix, "type", "wrong.prefix", event(), FAIL),
        (Prefix, "source", "wrong.prefix", event(), FAIL),
        (Prefix, EXT, "wrong.prefix", event(), FAIL),
        (Prefix, "type", "dev.knative", event(), PASS),
        (Prefix, EXT, "my-extension", with_ext(), PASS),
        # suffix_filter_test.go
        (Suffix, "some-other-attribute", "wrong.suffix", event(), FAIL),
        (Suffix, "type", "wrong.suffix", event(), FAIL),
        (Suffix, "source", "wrong.suffix", event(), FAIL),
        (Suffix, EXT, "wrong.suffix", event(), FAIL),
        (Suffix, "type", ".knative.example", event(), PASS),
        (Suffix, EXT, "extension-value", with_ext(), PASS),
    ],
)
def test_single_attribute_dialects(
    dialect: type[Exact | Prefix | Suffix],
    attribute: str,
    value: str,
    subject: Envelope,
    want: FilterResult,
) -> None:
    assert dialect(attribute, value)(subject) is want


@pytest.mark.parametrize(
    ("dialect", "pairs", "subject", "want"),
    [
        # TestMultipleExactMatchFilters
        ("exact", [("type", "some-other-type"), ("source", "some-other-source")], event(), FAIL),
        ("exact", [("type", TYPE), ("source", "some-other-source")], event(), FAIL),
        ("exact", [("type", TYPE), ("source", SOURCE)], event(), PASS),
        ("exact", [("type", TYPE), (EXT, EXT_VALUE)], event(), FAIL),
        ("exact", [("type", TYPE), (EXT, EXT_VALUE)], with_ext(), PASS),
        # TestMultiplePrefixFilters
        ("prefix", [("type", "wrong.prefix"), ("source", "wrong.prefix")], event(), FAIL),
        ("prefix", [("type", "dev.knative"), ("source", "wrong.prefix")], event(), FAIL),
        ("prefix", [("type", "dev.knative"), ("source", "knative")], event(), PASS),
        ("prefix", [("type", "dev.knative"), (EXT, "attri.prefix")], event(), FAIL),
        ("prefix", [("type", "dev.knative"), (EXT, "my-extension")], with_ext(), PASS),
    ],
)
def test_several_filters_must_all_pass(
    dialect: str, pairs: list[tuple[str, str]], subject: Envelope, want: FilterResult
) -> None:
    spec = {"filters": [{dialect: {name: value}} for name, value in pairs]}
    assert compile_trigger(spec, trigger="t")(subject) is want


@pytest.mark.parametrize(
    ("combinator", "children", "want"),
    [
        (AllOf, (), NO),
        (AllOf, (P,), PASS),
        (AllOf, (F,), FAIL),
        (AllOf, (P, F), FAIL),
        (AllOf, (P, P), PASS),
        (AllOf, (F, F), FAIL),
        (AnyOf, (), NO),
        (AnyOf, (P,), PASS),
        (AnyOf, (F,), FAIL),
        (AnyOf, (P, F), PASS),
        (AnyOf, (P, P), PASS),
        (AnyOf, (F, F), FAIL),
    ],
)
def test_all_and_any_flat(
    combinator: type[AllOf | AnyOf], children: tuple[Filter, ...], want: FilterResult
) -> None:
    assert combinator(children)(event()) is want


@pytest.mark.parametrize(
    ("outer", "inner", "want_all", "want_any"),
    [
        ((), (P,), PASS, PASS),
        ((), (F,), FAIL, FAIL),
        ((P,), (F,), FAIL, PASS),
        ((P,), (P,), PASS, PASS),
        ((F,), (F,), FAIL, FAIL),
        ((F,), (P,), FAIL, PASS),
        ((P,), (P, F), FAIL, PASS),
        ((P,), (P, P), PASS, PASS),
        ((P,), (F, F), FAIL, PASS),
        ((F,), (P, F), FAIL, PASS),
        ((F,), (P, P), FAIL, PASS),
        ((F,), (F, F), FAIL, FAIL),
    ],
)
def test_all_and_any_nested(
    outer: tuple[Filter, ...],
    inner: tuple[Filter, ...],
    want_all: FilterResult,
    want_any: FilterResult,
) -> None:
    assert AllOf((*outer, AllOf(inner)))(event()) is want_all
    assert AnyOf((*outer, AnyOf(inner)))(event()) is want_any


@pytest.mark.parametrize(("child", "want"), [(None, NO), (P, FAIL), (F, PASS), (constant(NO), NO)])
def test_not(child: Filter | None, want: FilterResult) -> None:
    assert Not(child)(event()) is want


def test_no_filter_does_not_decide_an_all_or_any() -> None:
    assert AllOf((constant(NO), P))(event()) is PASS
    assert AnyOf((constant(NO), F))(event()) is FAIL


@pytest.mark.parametrize(
    ("spec", "subject", "want"),
    [
        ({}, event(), NO),
        ({"filter": {}}, event(), PASS),
        ({"filter": {"attributes": {"type": TYPE}}}, event(), PASS),
        ({"filters": [], "filter": {"attributes": {"type": "other"}}}, event(), FAIL),
        (
            {"filters": [{"exact": {"type": TYPE}}], "filter": {"attributes": {"type": "x"}}},
            event(),
            PASS,
        ),
        (
            {"filters": [{"exact": {"type": "x"}}], "filter": {"attributes": {"type": TYPE}}},
            event(),
            FAIL,
        ),
        (
            {"filters": [{"any": [{"exact": {"type": "x"}}, {"suffix": {"source": "source"}}]}]},
            event(),
            PASS,
        ),
        ({"filters": [{"not": {"prefix": {"type": "dev."}}}]}, event(), FAIL),
        ({"filters": [{"not": {"exact": {EXT: EXT_VALUE}}}]}, event(), PASS),
        (
            {
                "filters": [
                    {"all": [{"exact": {"type": TYPE}}, {"not": {"exact": {EXT: EXT_VALUE}}}]}
                ]
            },
            with_ext(),
            FAIL,
        ),
    ],
)
def test_compile_trigger(spec: dict[str, Any], subject: Envelope, want: FilterResult) -> None:
    assert compile_trigger(spec, trigger="t")(subject) is want


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"filters": [{"cesql": "type = 'x'"}]}, "cesql"),
        ({"filters": [{"exact": {"type": "a"}, "prefix": {"type": "b"}}]}, "exactly one"),
        ({"filters": [{"regex": {"type": "a"}}]}, "exactly one"),
        ({"filters": [{"exact": {"type": "a", "source": "b"}}]}, "exactly one attribute"),
        ({"filters": [{"exact": {"type": ""}}]}, "non-empty"),
        ({"filters": [{"prefix": {"Type": "a"}}]}, "invalid attribute name"),
        ({"filters": [{"suffix": {"1type": "a"}}]}, "invalid attribute name"),
        ({"filters": [{"all": []}]}, "non-empty list"),
        ({"filters": [{"any": [{"not": {"cesql": "true"}}]}]}, "cesql"),
        ({"filters": {"exact": {"type": "a"}}}, "must be a list"),
        ({"filter": {"attributes": {"type": 3}}}, "must be a string"),
        ({"filter": {"attributes": {"my-ext": "a"}}}, "invalid attribute name"),
        ({"filter": {"exact": {"type": "a"}}}, "only 'attributes'"),
    ],
)
def test_bad_filters_are_errors_naming_the_trigger(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(FilterError) as failure:
        compile_trigger(spec, trigger="orders-to-audit")
    assert "orders-to-audit" in str(failure.value)
    assert message in str(failure.value)
