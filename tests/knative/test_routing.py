"""Triggers, sources and the dead-letter sink wire the catalogue together.

Covers:
- every Trigger belongs to the Broker, filters on one catalogued type (and the ping's
  source) and names an existing Knative Service as subscriber;
- every catalogued consumer has exactly one Trigger per type; terminal types have none;
  every type a function emits is consumed or documented as terminal; every function
  named in the catalogue (and every functions/<name>/ in the repository) has a Service;
- the Broker's dead-letter sink is the reconciler's /dead-letter;
- SinkBindings give K_SINK to exactly the functions whose wiring reads K_SINK (they
  send events themselves, not as replies), pointing at the Broker;
- the PingSource's schedule is valid five-field cron (Knative allows no seconds field)
  and the reconciler's Trigger matches its source; the GitHubSource alternative emits
  exactly the catalogued GitHub types into the Broker.
"""

from __future__ import annotations

import re
from collections import Counter

from remedy.events.catalogue import CATALOGUE, GITHUB_PREFIX, PING
from tests.knative import source_scan
from tests.knative.support import FUNCTIONS, KNATIVE, NAMESPACE, ROOT, load_file, of_kind

EVENTING = "eventing.knative.dev/v1"
KSVC = "serving.knative.dev/v1"
BROKER_REF = {"apiVersion": EVENTING, "kind": "Broker", "name": "remedy"}
CRON_FIELD = re.compile(r"^(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*$")
CATALOGUED = {entry.type: entry for entry in CATALOGUE}


def triggers() -> list[dict]:  # type: ignore[type-arg]
    return list(of_kind("Trigger", EVENTING))  # type: ignore[arg-type]


def routes() -> list[tuple[str, str]]:
    """(event type, subscriber Service) for every Trigger."""
    return [
        (t["spec"]["filter"]["attributes"]["type"], t["spec"]["subscriber"]["ref"]["name"])
        for t in triggers()
    ]


def ping_source_uri() -> str:
    (ping,) = of_kind("PingSource")
    metadata = ping["metadata"]
    return f"/apis/v1/namespaces/{metadata['namespace']}/pingsources/{metadata['name']}"


def test_triggers_are_well_formed() -> None:
    (broker,) = of_kind("Broker", EVENTING)
    services = {s["metadata"]["name"] for s in of_kind("Service", KSVC)}
    for trigger in triggers():
        spec = trigger["spec"]
        assert spec["broker"] == broker["metadata"]["name"]
        assert trigger["metadata"]["namespace"] == broker["metadata"]["namespace"]
        ref = spec["subscriber"]["ref"]
        assert (ref["apiVersion"], ref["kind"]) == (KSVC, "Service")
        assert ref["name"] in services, trigger["metadata"]["name"]
        attributes = spec["filter"]["attributes"]
        assert attributes["type"] in CATALOGUED, trigger["metadata"]["name"]
        expected_keys = {"type", "source"} if attributes["type"] == PING else {"type"}
        assert set(attributes) == expected_keys


def test_every_consumer_has_exactly_one_trigger_per_type() -> None:
    counted = Counter(routes())
    assert all(n == 1 for n in counted.values()), counted
    expected = {(entry.type, consumer) for entry in CATALOGUE for consumer in entry.consumers}
    assert set(counted) == expected


def test_terminal_types_have_no_trigger_and_every_emitted_type_is_handled() -> None:
    routed = {event_type for event_type, _ in routes()}
    for entry in CATALOGUE:
        if entry.terminal:
            assert entry.type not in routed
            assert not entry.consumers
        else:
            assert entry.type in routed, f"{entry.type} is emitted but nobody consumes it"
    emitted_by_functions = {e.type for e in CATALOGUE if set(e.producers) & set(FUNCTIONS)}
    assert emitted_by_functions <= routed | {e.type for e in CATALOGUE if e.terminal}


def test_every_function_has_a_service() -> None:
    services = {s["metadata"]["name"] for s in of_kind("Service", KSVC)}
    assert services == set(FUNCTIONS)
    named = {name for e in CATALOGUE for name in (*e.producers, *e.consumers)}
    assert named - {"GitHubSource", "PingSource"} <= services
    in_repo = {
        p.name
        for p in (ROOT / "functions").iterdir()
        if p.is_dir() and not p.name.startswith(("_", "."))
    }
    assert in_repo <= services, f"functions without a Knative Service: {in_repo - services}"


def test_dead_letter_sink_is_the_reconciler() -> None:
    (broker,) = of_kind("Broker", EVENTING)
    sink = broker["spec"]["delivery"]["deadLetterSink"]
    assert sink["ref"]["name"] == "reconciler"
    assert (sink["ref"]["apiVersion"], sink["ref"]["kind"]) == (KSVC, "Service")
    assert sink["uri"] == "/dead-letter"


def test_sink_bindings_serve_exactly_the_self_emitting_functions() -> None:
    bindings = of_kind("SinkBinding", "sources.knative.dev/v1")
    subjects = set()
    for binding in bindings:
        subject = binding["spec"]["subject"]
        assert (subject["apiVersion"], subject["kind"]) == (KSVC, "Service")
        subjects.add(subject["name"])
        assert binding["spec"]["sink"]["ref"] == BROKER_REF
    emitters = {f for f in FUNCTIONS if source_scan.needs(f).sink}
    assert emitters == {"webhook-gateway", "control-api", "reconciler"}  # the scan works
    assert subjects == emitters


def test_ping_source_is_valid_cron_and_the_reconciler_filters_on_it() -> None:
    (ping,) = of_kind("PingSource", "sources.knative.dev/v1")
    fields = ping["spec"]["schedule"].split()
    assert len(fields) == 5, "PingSource takes five-field cron; seconds are rejected"
    assert all(CRON_FIELD.match(field) for field in fields)
    assert ping["spec"]["sink"]["ref"] == BROKER_REF
    (reconcile,) = [t for t in triggers() if t["spec"]["filter"]["attributes"]["type"] == PING]
    assert reconcile["spec"]["filter"]["attributes"]["source"] == ping_source_uri()
    assert ping["metadata"]["namespace"] == NAMESPACE


def test_github_source_alternative_matches_the_catalogue() -> None:
    (source,) = load_file(KNATIVE / "alternatives" / "github-source.yaml")
    spec = source["spec"]
    github_types = {t for t in CATALOGUED if t.startswith(GITHUB_PREFIX)}
    assert {GITHUB_PREFIX + name for name in spec["eventTypes"]} == github_types
    assert spec["sink"]["ref"] == BROKER_REF
    for key in ("accessToken", "secretToken"):
        assert spec[key]["secretKeyRef"]["name"] == "remedy-secrets"
