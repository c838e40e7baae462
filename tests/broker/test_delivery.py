"""Delivery to subscribers: retries, dead letters, fan-out, against real HTTP servers.

Covers:
- success: 202 empty, 200 empty and 204 are deliveries without a reply, tried once;
- every retriable status (5xx, 404, 408, 409, 429) is retried ``retry`` times, then the
  event is dead-lettered; 400/401/403/422 are not retried at all;
- a transient failure followed by success stops retrying;
- connection refused and timeouts are retried and dead-lettered with code 500;
- a 2xx whose body is not a CloudEvent (or is a malformed one) fails with 502, is
  retried, and is dead-lettered with 502 and the body;
- the dead letter keeps the event's attributes and data and gains knativeerrordest,
  knativeerrorcode and knativeerrordata (base64, cut to 1024 characters);
- without a dead-letter sink the event is dropped and recorded; a refusing sink is
  retried and recorded as undelivered;
- backoff: retries never come earlier than the policy's backoff;
- fan-out: each matching Trigger has its own delivery; one failing does not hold the
  other; ``filters`` wins over ``filter``; non-matching events reach nobody;
- a Broker without ``delivery`` uses Knative's defaults (10 retries).
"""

from __future__ import annotations

import base64
import itertools
import threading
from typing import Any

import pytest
from werkzeug.wrappers import Response

from remedy.local.broker import LocalBroker
from remedy.local.broker.records import Outcome
from remedy.local.ports import free_port
from tests.broker.conftest import BrokerFactory
from tests.broker.support import Received, Subscriber, answers, send, status

FAST = {"retry": 2, "backoffPolicy": "exponential", "backoffDelay": "PT0.01S", "timeout": "PT2S"}


def dls(**extra: Any) -> dict[str, Any]:
    return {
        **FAST,
        "deadLetterSink": {
            "ref": {
                "apiVersion": "serving.knative.dev/v1",
                "kind": "Service",
                "name": "dead-letters",
            },
            "uri": "/dead-letter",
        },
        **extra,
    }


def outcomes(broker: LocalBroker, trigger: str) -> list[tuple[int | None, Outcome]]:
    return [(r.status, r.outcome) for r in broker.records.deliveries(trigger=trigger)]


@pytest.mark.parametrize("code", [202, 200, 204])
def test_empty_2xx_is_a_delivery_without_reply(
    broker: LocalBroker, subscribers: dict[str, Subscriber], code: int
) -> None:
    subscribers["sub-a"].responder = status(code)
    send(broker.url, "test.a")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [(code, Outcome.ACCEPTED)]
    assert len(subscribers["sub-a"].received) == 1
    assert broker.records.dead_letters() == []


@pytest.mark.parametrize("code", [500, 502, 503, 504, 404, 408, 409, 429])
def test_retriable_statuses_are_retried_then_dead_lettered(
    broker: LocalBroker, subscribers: dict[str, Subscriber], code: int
) -> None:
    subscribers["sub-a"].responder = status(code, b"busy")
    send(broker.url, "test.a", event_id="r-1", data=b"payload")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [
        (code, Outcome.RETRY),
        (code, Outcome.RETRY),
        (code, Outcome.FAILED),
    ]
    (letter,) = subscribers["dead-letters"].wait_for(1)
    assert letter.path == "/dead-letter"
    assert letter.headers["ce-id"] == "r-1"
    assert letter.headers["ce-knativeerrorcode"] == str(code)
    assert letter.headers["ce-knativeerrordest"] == subscribers["sub-a"].url
    assert base64.b64decode(letter.headers["ce-knativeerrordata"]) == b"busy"
    assert letter.body == b"payload"
    (record,) = broker.records.dead_letters()
    assert record.delivered and record.trigger == "t-a"


@pytest.mark.parametrize("code", [400, 401, 403, 422])
def test_other_client_errors_are_not_retried(
    broker: LocalBroker, subscribers: dict[str, Subscriber], code: int
) -> None:
    subscribers["sub-a"].responder = status(code)
    send(broker.url, "test.a")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [(code, Outcome.FAILED)]
    assert len(subscribers["sub-a"].received) == 1
    (letter,) = subscribers["dead-letters"].wait_for(1)
    assert letter.headers["ce-knativeerrorcode"] == str(code)


def test_a_transient_failure_is_retried_until_it_succeeds(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = answers(status(503), status(429), status(202))
    send(broker.url, "test.a")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [
        (503, Outcome.RETRY),
        (429, Outcome.RETRY),
        (202, Outcome.ACCEPTED),
    ]
    assert subscribers["dead-letters"].received == []


def test_connection_refused_is_retried_then_dead_lettered_with_500(
    make_broker: BrokerFactory, subscribers: dict[str, Subscriber]
) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    broker = make_broker(dls(), **{"sub-a": nobody})
    send(broker.url, "test.a")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [(None, Outcome.RETRY)] * 2 + [(None, Outcome.FAILED)]
    (letter,) = subscribers["dead-letters"].wait_for(1)
    assert letter.headers["ce-knativeerrorcode"] == "500"
    assert letter.headers["ce-knativeerrordest"] == nobody
    assert base64.b64decode(letter.headers["ce-knativeerrordata"]).startswith(b"dispatch error:")


def test_a_subscriber_slower_than_the_timeout_fails_the_attempt(
    make_broker: BrokerFactory, subscribers: dict[str, Subscriber]
) -> None:
    release = threading.Event()

    def hang_first(request: Received) -> Response:
        if len(subscribers["sub-a"].received) == 1:
            release.wait(10)
        return Response(status=202)

    subscribers["sub-a"].responder = hang_first
    broker = make_broker(dls(timeout="PT0.2S"))
    try:
        send(broker.url, "test.a")
        broker.wait_for(lambda r: len(r.deliveries(trigger="t-a")) == 2)
    finally:
        release.set()
    (first, second) = broker.records.deliveries(trigger="t-a")
    assert (first.status, first.outcome) == (None, Outcome.RETRY)
    assert "0.2s" in (first.error or "")
    assert (second.status, second.outcome) == (202, Outcome.ACCEPTED)


@pytest.mark.parametrize(
    ("headers", "body"),
    [
        ({"content-type": "text/plain"}, b"OK"),
        ({"content-type": "application/json"}, b'{"status": "done"}'),
        ({"ce-specversion": "1.0", "ce-type": "t", "ce-source": "/s"}, b"missing id"),
        ({"content-type": "application/cloudevents+json"}, b"{broken"),
    ],
)
def test_a_2xx_body_that_is_not_a_cloudevent_is_a_failed_delivery(
    broker: LocalBroker, subscribers: dict[str, Subscriber], headers: dict[str, str], body: bytes
) -> None:
    subscribers["sub-a"].responder = lambda _: Response(body, status=200, headers=headers)
    send(broker.url, "test.a")
    broker.wait_idle()
    assert outcomes(broker, "t-a") == [(502, Outcome.RETRY)] * 2 + [(502, Outcome.FAILED)]
    (letter,) = subscribers["dead-letters"].wait_for(1)
    assert letter.headers["ce-knativeerrorcode"] == "502"
    assert base64.b64decode(letter.headers["ce-knativeerrordata"]) == body


def test_error_data_is_cut_to_1024_base64_characters(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    long_body = bytes(range(256)) * 8  # 2048 bytes -> 2732 base64 characters
    subscribers["sub-a"].responder = status(500, long_body)
    send(broker.url, "test.a")
    (letter,) = subscribers["dead-letters"].wait_for(1)
    data = letter.headers["ce-knativeerrordata"]
    assert len(data) == 1024
    assert base64.b64encode(long_body).decode().startswith(data)


def test_the_dead_letter_keeps_the_event(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = status(400, b"bad task id")
    send(
        broker.url,
        "test.a",
        event_id="keep-me",
        mode="structured",
        extensions={"subject": "task-7", "correlationid": "gh-123"},
        data=b"\x00\x01binary",
    )
    (letter,) = subscribers["dead-letters"].wait_for(1)
    event = letter.event
    assert (event.id, event.type, event.source) == ("keep-me", "test.a", "/test/sender")
    assert event.get("subject") == "task-7"
    assert event.get("correlationid") == "gh-123"
    assert event.data == b"\x00\x01binary"
    assert event.get("knativebrokerttl") is None


def test_without_a_dead_letter_sink_the_event_is_dropped_and_recorded(
    make_broker: BrokerFactory, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = status(500)
    broker = make_broker(FAST)
    send(broker.url, "test.a", event_id="lost")
    broker.wait_idle()
    assert [r.outcome for r in broker.records.deliveries(trigger="t-a")][-1] is Outcome.FAILED
    (drop,) = broker.records.drops()
    assert drop.event.id == "lost" and "t-a" in drop.reason
    assert subscribers["dead-letters"].received == []


def test_a_refusing_dead_letter_sink_is_retried_and_recorded(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = status(500)
    subscribers["dead-letters"].responder = status(503)
    send(broker.url, "test.a")
    broker.wait_idle()
    assert len(subscribers["dead-letters"].received) == 3
    (record,) = broker.records.dead_letters()
    assert not record.delivered and record.status == 503


def test_retries_wait_at_least_the_backoff(
    make_broker: BrokerFactory, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = status(503)
    broker = make_broker(dls(backoffDelay="PT0.05S", retry=3))
    send(broker.url, "test.a")
    broker.wait_idle()
    times = [r.at for r in broker.records.deliveries(trigger="t-a")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert len(gaps) == 3
    for gap, backoff in zip(gaps, [0.05, 0.1, 0.2], strict=True):
        assert gap >= backoff


def test_fan_out_gives_each_trigger_its_own_delivery(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = status(500)
    send(broker.url, "test.a", event_id="fan")
    broker.wait_idle()
    assert outcomes(broker, "t-b") == [(202, Outcome.ACCEPTED)]
    assert [r.outcome for r in broker.records.deliveries(trigger="t-a")][-1] is Outcome.FAILED
    assert [r.headers["ce-id"] for r in subscribers["sub-b"].received] == ["fan"]
    (record,) = broker.records.dead_letters()
    assert record.trigger == "t-a"


def test_filters_win_over_filter_and_unmatched_events_reach_nobody(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    send(broker.url, "test.both.x", event_id="both")
    send(broker.url, "never.sent", event_id="legacy-only")
    send(broker.url, "test.unrouted", event_id="nobody")
    broker.wait_idle()
    assert [r.headers["ce-id"] for r in subscribers["sub-c"].received] == ["both"]
    assert {r.event_id for r in broker.records.deliveries()} == {"both"}


def test_a_broker_without_delivery_uses_knative_defaults(make_broker: BrokerFactory) -> None:
    broker = make_broker(None)
    assert broker.topology.broker.delivery.retry == 10
    assert broker.topology.broker.delivery.dead_letter is None


def test_deliveries_are_concurrent(broker: LocalBroker, subscribers: dict[str, Subscriber]) -> None:
    """Ten events held by a subscriber at once: the broker did not deliver them in turn."""
    release = threading.Event()

    def hold(_: Received) -> Response:
        release.wait(10)
        return Response(status=202)

    subscribers["sub-a"].responder = hold
    try:
        for n in range(10):
            send(broker.url, "test.a", event_id=f"c-{n}")
        subscribers["sub-a"].wait_for(10)
    finally:
        release.set()
    broker.wait_idle()
    assert len(broker.records.deliveries(trigger="t-a")) == 10
