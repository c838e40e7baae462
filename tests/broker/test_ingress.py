"""Broker ingress over HTTP.

Covers:
- binary and structured CloudEvents are accepted with 202, on ``/`` and on Knative's
  ``/<namespace>/<broker>`` path, and reach the subscriber with attributes and data
  intact (structured data_base64 and JSON data alike), in binary mode;
- 202 comes back while the subscriber is still busy (delivery is not synchronous);
- non-events, malformed events (missing id, bad JSON, unknown specversion, batches)
  get 400 with a JSON reason and reach nobody;
- a structured event nesting 100,000 levels deep (in its data or as a whole) gets 400
  "nesting deeper than 200 levels", reaches nobody and logs no traceback; binary-mode
  data is not the broker's to read (Knative's does not either): it is forwarded as sent,
  for the subscriber to refuse;
- TTL: absent -> 255 stamped at ingress; present -> decremented; 1 -> refused (400);
  ``knativearrivaltime`` is stamped; subscribers never see ``knativebrokerttl``;
- wrong path 404, GET 405, OPTIONS advertises POST.
"""

from __future__ import annotations

import json
import logging
import threading

import pytest
import requests
from werkzeug.wrappers import Response

from remedy.local.broker import LocalBroker
from remedy.untrusted_json import MAX_DEPTH
from tests.broker.support import Received, Subscriber, send

EVENT_HEADERS = {
    "ce-specversion": "1.0",
    "ce-id": "abc",
    "ce-source": "/s",
    "ce-type": "test.a",
}


@pytest.mark.parametrize("mode", ["binary", "structured"])
def test_events_are_accepted_and_delivered_in_binary_mode(
    broker: LocalBroker, subscribers: dict[str, Subscriber], mode: str
) -> None:
    response = send(
        broker.url,
        "test.a",
        event_id="e-1",
        mode=mode,
        extensions={"correlationid": "c-9"},
        data=b'{"n": 1}',
    )
    assert response.status_code == 202
    assert response.content == b""
    (received,) = subscribers["sub-a"].wait_for(1)
    assert received.headers["ce-id"] == "e-1"
    assert received.headers["ce-type"] == "test.a"
    assert received.headers["ce-correlationid"] == "c-9"
    assert received.headers["prefer"] == "reply"
    assert json.loads(received.body) == {"n": 1}
    assert "ce-knativebrokerttl" not in received.headers
    assert "ce-knativearrivaltime" in received.headers


def test_structured_json_data_reaches_the_subscriber_as_json(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    body = {
        "specversion": "1.0",
        "id": "j-1",
        "source": "/s",
        "type": "test.a",
        "datacontenttype": "application/json",
        "data": {"pull_request": {"number": 7}},
        "knativebrokerttl": 9,
    }
    response = requests.post(
        broker.url,
        data=json.dumps(body),
        headers={"content-type": "application/cloudevents+json"},
        timeout=10,
    )
    assert response.status_code == 202
    (received,) = subscribers["sub-a"].wait_for(1)
    assert json.loads(received.body) == {"pull_request": {"number": 7}}
    assert received.headers["content-type"] == "application/json"
    (accepted,) = broker.records.events()
    assert accepted.get("knativebrokerttl") == "8"


def test_root_path_is_an_ingress_too(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    root = broker.url.removesuffix(broker.path) + "/"
    assert send(root, "test.a").status_code == 202
    subscribers["sub-a"].wait_for(1)


def test_ingress_answers_before_the_subscriber_does(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    release = threading.Event()

    def slow(_: Received) -> Response:
        release.wait(10)
        return Response(status=202)

    subscribers["sub-a"].responder = slow
    try:
        assert send(broker.url, "test.a").status_code == 202
        subscribers["sub-a"].wait_for(1)
        assert broker.records.deliveries(trigger="t-a") == []  # still in progress
    finally:
        release.set()
    broker.wait_for(lambda r: len(r.deliveries(trigger="t-a")) == 1)


@pytest.mark.parametrize(
    ("headers", "body", "reason"),
    [
        ({"content-type": "application/json"}, b'{"hello": 1}', "no CloudEvent"),
        ({}, b"", "no CloudEvent"),
        ({**EVENT_HEADERS, "ce-id": ""}, b"", "id"),
        ({k: v for k, v in EVENT_HEADERS.items() if k != "ce-source"}, b"", "source"),
        ({**EVENT_HEADERS, "ce-specversion": "9.9"}, b"", "specversion"),
        ({"content-type": "application/cloudevents+json"}, b"{not json", "not JSON"),
        ({"content-type": "application/cloudevents+json"}, b"[1, 2]", "JSON object"),
        (
            {"content-type": "application/cloudevents+json"},
            json.dumps({"specversion": "1.0", "source": "/s", "type": "t"}).encode(),
            "id",
        ),
        ({"content-type": "application/cloudevents-batch+json"}, b"[]", "batch"),
        ({**EVENT_HEADERS, "ce-knativebrokerttl": "1"}, b"", "knativebrokerttl"),
    ],
)
def test_non_events_get_400_with_a_reason_and_go_nowhere(
    broker: LocalBroker, headers: dict[str, str], body: bytes, reason: str
) -> None:
    response = requests.post(broker.url, data=body, headers=headers, timeout=10)
    assert response.status_code == 400
    assert reason in response.json()["error"]
    assert broker.records.events() == []


DEEP = 100_000


@pytest.mark.parametrize(
    "body",
    [
        b'{"specversion": "1.0", "id": "d", "source": "/s", "type": "test.a", "data": '
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}",
        b'{"a":' * DEEP + b"1" + b"}" * DEEP,
    ],
    ids=["deep-data", "deep-envelope"],
)
def test_deeply_nested_structured_events_get_400(
    broker: LocalBroker, caplog: pytest.LogCaptureFixture, body: bytes
) -> None:
    caplog.set_level(logging.INFO)
    response = requests.post(
        broker.url, data=body, headers={"content-type": "application/cloudevents+json"}, timeout=30
    )
    assert response.status_code == 400, response.text
    assert f"not JSON: nesting deeper than {MAX_DEPTH} levels" in response.json()["error"]
    assert broker.records.events() == []
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_deep_binary_data_is_forwarded_as_sent(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    data = b"[" * DEEP + b"]" * DEEP
    assert send(broker.url, "test.a", data=data).status_code == 202
    (received,) = subscribers["sub-a"].wait_for(1)
    assert received.body == data


def test_ttl_is_stamped_when_absent_and_decremented_when_present(broker: LocalBroker) -> None:
    send(broker.url, "test.none", event_id="fresh")
    send(broker.url, "test.none", event_id="travelled", extensions={"knativebrokerttl": "7"})
    send(broker.url, "test.none", event_id="garbled", extensions={"knativebrokerttl": "many"})
    ttls = {event.id: event.get("knativebrokerttl") for event in broker.records.events()}
    assert ttls == {"fresh": "255", "travelled": "6", "garbled": "255"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/other/broker", 404),
        ("GET", None, 405),
        ("PUT", None, 405),
        ("OPTIONS", None, 200),
    ],
)
def test_paths_and_methods(broker: LocalBroker, method: str, path: str | None, status: int) -> None:
    base = broker.url.removesuffix(broker.path)
    response = requests.request(method, base + (path or broker.path), timeout=10)
    assert response.status_code == status
    if status == 405:
        assert response.headers["Allow"] == "POST, OPTIONS"
    if status == 200:
        assert "POST" in response.headers["Allow"]


def test_healthz(broker: LocalBroker) -> None:
    base = broker.url.removesuffix(broker.path)
    assert requests.get(base + "/healthz", timeout=10).text == "ok"
