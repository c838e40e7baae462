"""The real ``knative/`` directory, loaded by the local broker, routes as catalogued.

Covers:
- the broker loads exactly the files kustomization.yaml lists;
- for every catalogued event type, the Triggers that let it through point at exactly
  the catalogue's consumers (terminal types reach nobody); the PingSource's events are
  matched on type and source, so a ping from elsewhere reaches nobody;
- Broker delivery is Knative's default policy with a timeout and the reconciler's
  /dead-letter path as sink;
- a running LocalBroker on knative/ delivers a push to push-intake only.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from remedy.events.catalogue import CATALOGUE, PING
from remedy.local.broker import LocalBroker
from remedy.local.broker.envelopes import Envelope
from remedy.local.broker.filters import FilterResult
from remedy.local.broker.manifests import Topology, load
from remedy.local.broker.policy import BackoffPolicy, Destination
from tests.broker.support import Subscriber, send

KNATIVE = Path(__file__).resolve().parents[2] / "knative"


def ping_source() -> str:
    (ping,) = [
        document
        for document in yaml.safe_load_all((KNATIVE / "sources.yaml").read_text())
        if document and document["kind"] == "PingSource"
    ]
    metadata = ping["metadata"]
    return f"/apis/v1/namespaces/{metadata['namespace']}/pingsources/{metadata['name']}"


def receivers(topology: Topology, event: Envelope) -> set[str]:
    return {
        str(trigger.subscriber.service)
        for trigger in topology.triggers
        if trigger.filter(event) is not FilterResult.FAIL
    }


def sample(event_type: str, source: str) -> Envelope:
    return Envelope({"specversion": "1.0", "id": "1", "type": event_type, "source": source})


def test_the_broker_reads_exactly_the_kustomization_resources() -> None:
    listed = yaml.safe_load((KNATIVE / "kustomization.yaml").read_text())["resources"]
    assert load(KNATIVE).files == tuple((KNATIVE / entry).resolve() for entry in listed)


def test_routing_equals_the_catalogue() -> None:
    topology = load(KNATIVE)
    for entry in CATALOGUE:
        source = ping_source() if entry.type == PING else "https://github.com/acme/app"
        got = receivers(topology, sample(entry.type, source))
        assert got == set(entry.consumers), entry.type
        assert not (entry.terminal and got), f"terminal {entry.type} has subscribers {got}"


def test_a_ping_from_another_source_reaches_nobody() -> None:
    assert receivers(load(KNATIVE), sample(PING, "/apis/v1/namespaces/x/pingsources/y")) == set()


def test_no_trigger_serves_an_uncatalogued_type() -> None:
    assert receivers(load(KNATIVE), sample("dev.remedy.something.else", "/x")) == set()


def test_broker_delivery_defaults_and_dead_letter_sink() -> None:
    delivery = load(KNATIVE).broker.delivery
    assert (delivery.retry, delivery.backoff_policy, delivery.backoff_delay_s) == (
        10,
        BackoffPolicy.EXPONENTIAL,
        0.2,
    )
    assert delivery.timeout_s is not None
    assert delivery.dead_letter == Destination(service="reconciler", uri="/dead-letter")


def test_a_running_broker_on_knative_routes_a_push(tmp_path: Path) -> None:
    topology = load(KNATIVE)
    servers = {name: Subscriber(name) for name in sorted(topology.referenced_services())}
    broker = LocalBroker(KNATIVE, {name: s.url for name, s in servers.items()}).start()
    try:
        assert broker.path == "/remedy/remedy"
        response = send(broker.url, "dev.knative.source.github.push")
        assert response.status_code == 202
        servers["push-intake"].wait_for(1)
        broker.wait_idle()
        assert {n: len(s.received) for n, s in servers.items() if s.received} == {"push-intake": 1}
    finally:
        broker.stop()
        for server in servers.values():
            server.served.stop()
