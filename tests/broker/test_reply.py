"""Replies re-entering the broker, and the TTL that stops reply loops.

Covers:
- a 200 carrying a CloudEvent (binary or structured) is a reply: it re-enters the
  broker and is routed by the Triggers like any event, in binary mode;
- a 2xx other than 200 carrying an event is a reply too (Knative forwards any 2xx);
- the reply carries the TTL its trigger event had, decremented on re-entry; the
  subscriber never sees knativebrokerttl;
- a reply loop (a subscriber replying with the type it receives) ends when the TTL
  reaches zero: the last reply is dropped and recorded, not delivered;
- a reply that matches no Trigger is accepted and goes nowhere.
"""

from __future__ import annotations

import pytest

from remedy.local.broker import LocalBroker
from remedy.local.broker.records import Outcome
from tests.broker.support import Subscriber, reply, send


@pytest.mark.parametrize(("mode", "code"), [("binary", 200), ("structured", 200), ("binary", 202)])
def test_a_reply_is_routed_like_any_event(
    broker: LocalBroker, subscribers: dict[str, Subscriber], mode: str, code: int
) -> None:
    subscribers["sub-a"].responder = reply("test.reply", mode=mode, status_code=code, data={"k": 2})
    send(broker.url, "test.a", event_id="origin")
    (routed,) = subscribers["sub-c"].wait_for(1)
    broker.wait_idle()
    event = routed.event
    assert event.type == "test.reply"
    assert event.source == "/test/replier"
    assert event.data == b'{"k": 2}'
    assert "ce-knativebrokerttl" not in routed.headers
    assert [r.outcome for r in broker.records.deliveries(trigger="t-a")] == [Outcome.REPLIED]
    assert [r.outcome for r in broker.records.deliveries(trigger="t-reply")] == [Outcome.ACCEPTED]


def test_the_reply_carries_the_ttl_decremented(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = reply("test.reply")
    send(broker.url, "test.a", event_id="origin", extensions={"knativebrokerttl": "10"})
    subscribers["sub-c"].wait_for(1)
    broker.wait_idle()
    ttls = {event.type: event.get("knativebrokerttl") for event in broker.records.events()}
    assert ttls == {"test.a": "9", "test.reply": "8"}


def test_a_reply_loop_is_cut_by_the_ttl(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-loop"].responder = reply("test.loop")
    send(broker.url, "test.loop", event_id="loop-0", extensions={"knativebrokerttl": "5"})
    broker.wait_for(lambda r: len(r.drops()) == 1)
    broker.wait_idle()
    # ttl 5 -> 4 at ingress; replies enter with 3, 2, 1 and the fourth reply would be 0.
    assert len(subscribers["sub-loop"].received) == 4
    assert [e.get("knativebrokerttl") for e in broker.records.events()] == ["4", "3", "2", "1"]
    (drop,) = broker.records.drops()
    assert drop.event.type == "test.loop"
    assert "knativebrokerttl" in drop.reason and "t-loop" in drop.reason


def test_a_reply_nobody_subscribes_to_goes_nowhere(
    broker: LocalBroker, subscribers: dict[str, Subscriber]
) -> None:
    subscribers["sub-a"].responder = reply("test.terminal")
    send(broker.url, "test.a")
    broker.wait_for(lambda r: len(r.events()) == 2)
    broker.wait_idle()
    assert [e.type for e in broker.records.events()] == ["test.a", "test.terminal"]
    assert subscribers["sub-c"].received == []
    assert broker.records.drops() == []
