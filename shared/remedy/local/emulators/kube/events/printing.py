"""The server-side Table of Events, as ``kubectl get events`` prints it.

The apiserver's Event printer (k8s.io/kubernetes ``pkg/printers/internalversion``,
``printEvent``) serves both ``v1`` and ``events.k8s.io/v1`` from the stored form, and
always renders the wide form; kubectl hides the priority-1 columns unless asked for
``-o wide``. So there is no leading Name column: LAST SEEN, TYPE, REASON, OBJECT,
MESSAGE, then (wide) SUBOBJECT, SOURCE, FIRST SEEN, COUNT, NAME — in the printer's
order. First seen is ``firstTimestamp``, or ``eventTime`` for new-style Events; last
seen is ``lastTimestamp``, else first seen — or the series' ``lastObservedTime``;
the count is the series' count, ``count``, or 1 for a singleton; the object is
``kind/name`` in lower-case kind; the source is component (or reporting controller)
and host (or reporting instance). Column descriptions are the Event type's own docs.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from remedy.local.emulators.kube.durations import since
from remedy.local.emulators.kube.openapi import definitions

_EVENT = "io.k8s.api.core.v1.Event"
_REFERENCE = "io.k8s.api.core.v1.ObjectReference"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
# (header, priority, format, definition, property)
_COLUMNS = (
    ("Last Seen", 0, "", _EVENT, "lastTimestamp"),
    ("Type", 0, "", _EVENT, "type"),
    ("Reason", 0, "", _EVENT, "reason"),
    ("Object", 0, "", _EVENT, "involvedObject"),
    ("Subobject", 1, "", _REFERENCE, "fieldPath"),
    ("Source", 1, "", _EVENT, "source"),
    ("Message", 0, "", _EVENT, "message"),
    ("First Seen", 1, "", _EVENT, "firstTimestamp"),
    ("Count", 1, "", _EVENT, "count"),
    ("Name", 1, "name", _META, "name"),
)


@functools.cache
def _descriptions() -> dict[tuple[str, str], str]:
    found = definitions.builtin_definitions(definitions.V2_PREFIX)
    return {
        (definition, name): str(found[definition]["properties"][name].get("description", ""))
        for _, _, _, definition, name in _COLUMNS
    }


def column_definitions() -> list[dict[str, Any]]:
    described = _descriptions()
    return [
        {
            "name": header,
            "type": "string",
            "format": form,
            "description": described[(definition, name)],
            "priority": priority,
        }
        for header, priority, form, definition, name in _COLUMNS
    ]


def _source(event: Mapping[str, Any]) -> str:
    """``formatEventSource``: component and host, each falling back to the reporter."""
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    host = source.get("host") or event.get("reportingInstance") or ""
    return f"{component}, {host}" if host else component


def cells(event: Mapping[str, Any]) -> list[Any]:
    """One row of ``printEvent`` (wide), from the stored form."""
    first = since(event.get("firstTimestamp") or event.get("eventTime"))
    last = since(event["lastTimestamp"]) if event.get("lastTimestamp") else first
    count = int(event.get("count") or 0)
    series = event.get("series")
    if series is not None:
        last = since(series.get("lastObservedTime"))
        count = int(series.get("count") or 0)
    elif count == 0:
        count = 1  # singleton events have no count in the new API
    involved = event.get("involvedObject") or {}
    kind = str(involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    return [
        last,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        _source(event),
        str(event.get("message") or "").strip(),
        first,
        count,
        event["metadata"]["name"],
    ]
