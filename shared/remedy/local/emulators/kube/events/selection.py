"""Field selectors on Events: which labels each version accepts, and what they match.

Both versions select on the one set of fields the Event strategy computes from the
stored form (``ToSelectableFields``): ``involvedObject.{kind,namespace,name,uid,
apiVersion,resourceVersion,fieldPath}``, ``reason``, ``reportingComponent``,
``source`` (``source.component``, or ``reportingComponent`` when that is empty),
``type``, ``metadata.name`` and ``metadata.namespace``. Core ``v1`` accepts exactly
those labels; ``events.k8s.io/v1`` accepts its own spellings and converts them
(``regarding.*`` → ``involvedObject.*``, ``reportingController`` →
``reportingComponent``; ``pkg/apis/events/v1/conversion.go``) — so
``involvedObject.name`` is "field label not supported" there, as
``regarding.name`` is on core ``v1``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_REFERENCE = ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")
_OWN = ("reason", "reportingComponent", "source", "type", "metadata.namespace", "metadata.name")

CORE_LABELS: dict[str, str] = {
    **{f"involvedObject.{name}": f"involvedObject.{name}" for name in _REFERENCE},
    **{name: name for name in _OWN},
}
EVENTS_LABELS: dict[str, str] = {
    **{f"regarding.{name}": f"involvedObject.{name}" for name in _REFERENCE},
    "reportingController": "reportingComponent",
    **{name: name for name in _OWN if name != "reportingComponent"},
}


def selectable(event: Mapping[str, Any]) -> dict[str, str]:
    """``ToSelectableFields`` of a stored Event."""
    involved = event.get("involvedObject") or {}
    controller = str(event.get("reportingComponent") or "")
    meta = event.get("metadata") or {}
    fields = {f"involvedObject.{name}": str(involved.get(name) or "") for name in _REFERENCE}
    fields.update(
        {
            "reason": str(event.get("reason") or ""),
            "reportingComponent": controller,
            "source": str((event.get("source") or {}).get("component") or controller),
            "type": str(event.get("type") or ""),
            "metadata.name": str(meta.get("name") or ""),
            "metadata.namespace": str(meta.get("namespace") or ""),
        }
    )
    return fields
