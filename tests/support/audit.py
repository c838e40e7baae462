"""Reading remedy's Kubernetes Events back, and holding each to the audit catalogue.

The integration suites read the Events the functions wrote (through the official
client, ``events.k8s.io/v1``, as an operator's tools would) and check every one against
:mod:`remedy.domain.audit`: its reason is catalogued, it is about a kind of object the
catalogue names for that reason, in that kind's namespace, written by a function the
catalogue lists as a writer (``reportingInstance`` is ``<function>[/<pod>]``), with
the catalogue's action and type and ``reportingController: remedy``. The deployment's
RBAC is derived from the same catalogue (tests/knative/test_rbac.py), so an Event the
code writes but the catalogue does not declare fails here rather than in production.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kubernetes import client

from remedy.domain import audit
from tests.chain import seed

HOMES = {"CodeRun": seed.AGENT_NS, "Workflow": seed.ARGO_NS, "ConfigMap": seed.STATE_NS}


@dataclass(frozen=True)
class Seen:
    """One Event as read back."""

    name: str
    namespace: str
    reason: str
    action: str
    type: str
    note: str
    kind: str
    object: str
    uid: str
    controller: str
    instance: str
    event_time: str

    @property
    def function(self) -> str:
        return self.instance.split("/")[0]


def events(api: client.ApiClient, namespace: str | None = None) -> list[Seen]:
    """Every Event (of ``namespace``, else all), oldest first."""
    events_api = client.EventsV1Api(api)
    response: Any = (
        events_api.list_namespaced_event(namespace, _preload_content=False)
        if namespace
        else events_api.list_event_for_all_namespaces(_preload_content=False)
    )
    items = json.loads(response.data)["items"]
    seen = [
        Seen(
            name=item["metadata"]["name"],
            namespace=item["metadata"]["namespace"],
            reason=item.get("reason", ""),
            action=item.get("action", ""),
            type=item.get("type", ""),
            note=item.get("note", ""),
            kind=item["regarding"].get("kind", ""),
            object=item["regarding"].get("name", ""),
            uid=item["regarding"].get("uid", ""),
            controller=item.get("reportingController", ""),
            instance=item.get("reportingInstance", ""),
            event_time=item.get("eventTime") or "",
        )
        for item in items
    ]
    return sorted(seen, key=lambda e: (e.event_time, e.name))


def catalogued(api: client.ApiClient) -> list[Seen]:
    """Every Event, each checked against the audit catalogue (see the module)."""
    seen = events(api)
    for event in seen:
        entry = audit.BY_REASON[audit.Reason(event.reason)]
        assert event.kind in entry.regarding, event
        assert event.namespace == HOMES[event.kind], event
        assert event.function in entry.writers, event
        assert (event.action, event.type) == (entry.action, entry.type), event
        assert event.controller == "remedy", event
    return seen


def summary(seen: list[Seen]) -> list[tuple[str, str, str, str]]:
    """(reason, kind, object, function) of each Event, in order."""
    return [(e.reason, e.kind, e.object, e.function) for e in seen]
