"""Local broker: ingress acknowledgement, ingress-to-subscriber latency, throughput.

A LocalBroker with one Trigger delivers to a trivial subscriber that answers 202 and
notes when each event arrived. Sender, broker and subscriber share this process (the
local platform runs the broker in-process too), so the figures include the GIL
contention a busy `remedy up` would see.

- single sender: 400 events one after another (each waits for its 202);
- concurrent senders: 8 threads, 1600 events in all, as fast as they can.

Latency is measured from just before the POST to the subscriber's arrival
(time.perf_counter on both sides). Targets are what remedy needs locally: the ingress
answers within 20 ms at p99 (webhook-gateway forwards synchronously and has a 50 ms
p99 budget), an event reaches its subscriber within 50 ms at p99 (a remediation chain
is four hops), and the broker carries at least 200 events/s (the gateway bench's rate).
"""

from __future__ import annotations

import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from remedy.local.broker import LocalBroker
from remedy.local.http_server import serve_in_thread
from tests.benchmarks.load import summary_ms, target
from tests.support.waiting import eventually

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment

SINGLE_COUNT = 400
SENDERS = 8
CONCURRENT_COUNT = 1600
TOPOLOGY = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: bench, namespace: bench}
spec:
  delivery: {retry: 0, timeout: PT5S}
---
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: sink, namespace: bench}
---
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {name: to-sink, namespace: bench}
spec:
  broker: bench
  filter: {attributes: {type: bench.event}}
  subscriber: {ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: sink}}
"""


class Sink:
    """Answers 202 and records each event's arrival time by id."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self._lock = threading.Lock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        arrived = time.perf_counter()
        with self._lock:
            self.arrivals[environ.get("HTTP_CE_ID", "")] = arrived
        start_response("202 Accepted", [("Content-Length", "0")])
        return [b""]

    def wait_for(self, total: int, *, timeout: float) -> None:
        """Until ``total`` events have arrived in all (AssertionError otherwise).

        Polled: arrival times are taken by the sink as each event lands, so how often
        this looks does not change a figure.
        """
        eventually(
            lambda: len(self.arrivals) >= total,
            timeout=timeout,
            every=0.01,
            what=f"{total} events at the sink",
            describe=lambda: f"{len(self.arrivals)} of {total} events arrived",
        )


def _headers(event_id: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/bench",
        "ce-type": "bench.event",
        "content-type": "application/json",
    }


def _phase(
    broker: LocalBroker, sink: Sink, *, prefix: str, count: int, senders: int
) -> dict[str, Any]:
    local = threading.local()
    sent: dict[str, float] = {}
    acks: list[float] = []
    lock = threading.Lock()

    def send(index: int) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        event_id = f"{prefix}-{index}"
        began = time.perf_counter()
        response = session.post(
            broker.url, data=b'{"n": 1}', headers=_headers(event_id), timeout=10
        )
        acked = time.perf_counter()
        response.raise_for_status()
        with lock:
            sent[event_id] = began
            acks.append(acked - began)

    already = len(sink.arrivals)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=senders) as pool:
        list(pool.map(send, range(count)))
    sink.wait_for(already + count, timeout=60)
    broker.wait_idle(timeout=60)
    ids = [event_id for event_id in sent if event_id in sink.arrivals]
    finished = max(sink.arrivals[event_id] for event_id in ids)
    latencies = [sink.arrivals[event_id] - sent[event_id] for event_id in ids]
    return {
        "events": count,
        "delivered": len(ids),
        "ingress_ack": summary_ms(acks),
        "ingress_to_subscriber": summary_ms(latencies),
        "events_per_s": round(len(ids) / (finished - started), 1),
    }


def run() -> dict[str, Any]:
    sink = Sink()
    served = serve_in_thread(sink)
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "topology.yaml").write_text(TOPOLOGY)
        broker = LocalBroker(Path(directory), {"sink": served.url}).start()
        try:
            _phase(broker, sink, prefix="warmup", count=50, senders=1)
            single = _phase(broker, sink, prefix="single", count=SINGLE_COUNT, senders=1)
            concurrent = _phase(
                broker, sink, prefix="concurrent", count=CONCURRENT_COUNT, senders=SENDERS
            )
        finally:
            broker.stop()
            served.stop()
    return {
        "single_sender": single,
        "concurrent_senders": {"senders": SENDERS, **concurrent},
        "targets": {
            "ingress_ack_p99_ms": target(single["ingress_ack"]["p99_ms"], 20.0),
            "ingress_to_subscriber_p99_ms": target(single["ingress_to_subscriber"]["p99_ms"], 50.0),
            "events_per_s": {
                "value": concurrent["events_per_s"],
                "target": 200.0,
                "met": concurrent["events_per_s"] >= 200.0,
            },
            "all_delivered": {
                "value": single["delivered"] + concurrent["delivered"],
                "target": SINGLE_COUNT + CONCURRENT_COUNT,
                "met": single["delivered"] + concurrent["delivered"]
                == SINGLE_COUNT + CONCURRENT_COUNT,
            },
        },
    }
