"""Delivery policy: ISO-8601 durations, Knative's backoff formulas and retry decision.

Covers:
- durations in seconds, minutes, hours, days, weeks with fractions; malformed ones and
  years/months (no fixed length) are refused;
- backoff before retry n (0-based, as go-retryablehttp counts): exponential delay*2^n,
  linear delay*n (the first linear retry is immediate); none without policy or delay;
- SelectiveRetry: connection errors, 5xx, 404, 408, 409, 429 retried; other 4xx not;
- parsing ``delivery`` blocks: defaults, errors naming the owner, destinations.
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.local.broker.policy import (
    BROKER_DEFAULTS,
    DEFAULT_REQUEST_TIMEOUT_S,
    BackoffPolicy,
    DeliveryPolicy,
    Destination,
    PolicyError,
    is_retriable,
    parse_delivery,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT0.2S", 0.2),
        ("PT1S", 1.0),
        ("PT10S", 10.0),
        ("PT1M", 60.0),
        ("PT1M30S", 90.0),
        ("PT1.5H", 5400.0),
        ("P1D", 86400.0),
        ("P1DT2H", 93600.0),
        ("P1W", 604800.0),
        ("PT0S", 0.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "text", ["", "P", "PT", "0.2S", "PT-1S", "P1Y", "P1M", "PTS", "1 second", "PT1S "]
)
def test_malformed_durations_are_refused(text: str) -> None:
    if text == "PT1S ":  # surrounding blanks are harmless
        assert parse_duration(text) == 1.0
        return
    with pytest.raises(ValueError, match="ISO-8601"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("policy", "delay", "expected"),
    [
        (BackoffPolicy.EXPONENTIAL, 0.2, [0.2, 0.4, 0.8, 1.6, 3.2]),
        (BackoffPolicy.LINEAR, 0.2, [0.0, 0.2, 0.4, 0.6, 0.8]),
        (None, 0.2, [0.0] * 5),
        (BackoffPolicy.EXPONENTIAL, None, [0.0] * 5),
    ],
)
def test_backoff_matches_knative(
    policy: BackoffPolicy | None, delay: float | None, expected: list[float]
) -> None:
    spec = DeliveryPolicy(retry=5, backoff_policy=policy, backoff_delay_s=delay)
    assert [spec.backoff_s(n) for n in range(5)] == pytest.approx(expected)


def test_broker_defaults_are_knatives_config_br_defaults() -> None:
    assert BROKER_DEFAULTS.retry == 10
    assert BROKER_DEFAULTS.backoff_policy is BackoffPolicy.EXPONENTIAL
    assert BROKER_DEFAULTS.backoff_delay_s == pytest.approx(0.2)
    assert BROKER_DEFAULTS.request_timeout_s == DEFAULT_REQUEST_TIMEOUT_S


@pytest.mark.parametrize(
    ("status", "retried"),
    [
        (None, True),
        (500, True),
        (501, True),
        (502, True),
        (503, True),
        (504, True),
        (404, True),
        (408, True),
        (409, True),
        (429, True),
        (400, False),
        (401, False),
        (403, False),
        (405, False),
        (410, False),
        (413, False),
        (422, False),
        (300, False),
        (302, False),
    ],
)
def test_selective_retry(status: int | None, retried: bool) -> None:
    assert is_retriable(status) is retried


def test_parse_delivery_block() -> None:
    policy = parse_delivery(
        {
            "retry": 3,
            "backoffPolicy": "linear",
            "backoffDelay": "PT0.5S",
            "timeout": "PT10S",
            "deadLetterSink": {
                "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "dls"},
                "uri": "/dead-letter",
            },
        },
        owner="Broker 'b'",
    )
    assert policy == DeliveryPolicy(
        retry=3,
        backoff_policy=BackoffPolicy.LINEAR,
        backoff_delay_s=0.5,
        timeout_s=10.0,
        dead_letter=Destination(service="dls", uri="/dead-letter"),
    )
    assert policy.dead_letter is not None
    assert policy.dead_letter.resolve({"dls": "http://h:1"}) == "http://h:1/dead-letter"
    assert parse_delivery({}, owner="x") == DeliveryPolicy()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"retry": -1}, "retry"),
        ({"retry": "3"}, "retry"),
        ({"backoffPolicy": "fibonacci"}, "backoffPolicy"),
        ({"backoffDelay": "0.2s"}, "backoffDelay"),
        ({"timeout": "P1M"}, "timeout"),
        ({"retryAfterMax": "PT1S"}, "not supported"),
        ({"deadLetterSink": {"uri": "/relative"}}, "absolute"),
        (
            {"deadLetterSink": {"ref": {"apiVersion": "v1", "kind": "Service", "name": "s"}}},
            "Knative Services",
        ),
        (
            {
                "deadLetterSink": {
                    "ref": {"apiVersion": "serving.knative.dev/v1", "kind": "Service", "name": "s"},
                    "uri": "http://x/y",
                }
            },
            "relative path",
        ),
    ],
)
def test_bad_delivery_blocks_name_their_owner(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(PolicyError) as failure:
        parse_delivery(spec, owner="Trigger 'orders'")
    assert "Trigger 'orders'" in str(failure.value)
    assert message in str(failure.value)


def test_absolute_uri_destination_and_unknown_service() -> None:
    sink = parse_delivery({"deadLetterSink": {"uri": "http://sink:8080/x"}}, owner="o").dead_letter
    assert sink == Destination(uri="http://sink:8080/x")
    assert sink.resolve({}) == "http://sink:8080/x"
    with pytest.raises(LookupError, match="'missing'"):
        Destination(service="missing").resolve({})
