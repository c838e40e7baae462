"""Kubernetes Events (``events.k8s.io/v1``): remedy's audit trail, written best-effort.

Each Event goes in the namespace of the object it is about (CodeRuns in agent-platform,
workflows in argo, the state ConfigMaps in remedy), from ``reportingController:
remedy`` and ``reportingInstance: <function>[/<pod>]``, named as client-go's recorder
names them (``<object>.<hex nanoseconds>``, kept increasing within the process, so two
Events of one step never collide). ``eventTime`` is written by hand: the apiserver
takes a MicroTime only with exactly six fractional digits, which the client's
``isoformat()`` drops when the microsecond is 0. That is also why the Event is POSTed
as raw JSON (:mod:`remedy.adapters.kube.rest`: a POST to
``/apis/events.k8s.io/v1/namespaces/<ns>/events`` with the JSON as given) rather than
through ``EventsV1Api``, whose call validates the body into its model, turning ``eventTime``
back into a datetime and serialising it with ``isoformat()``: one Event in a million
would be refused with a 400.

Best-effort by design — the audit trail must never cost a remediation:

- every request has a short timeout (``timeout_s``);
- no failure is raised; each kind of failure (an HTTP status, or a transport error,
  per namespace) is logged at WARNING the first time and at DEBUG after that;
- an outage (a timeout, a dropped connection, 429 or 5xx) pauses writing for
  ``pause_s``: the Events of that pause are skipped (counted, logged at DEBUG) rather
  than each waiting out its own timeout, so an apiserver outage costs one timeout per
  pause, not one per Event. The first Event written after an outage logs at INFO.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from remedy.adapters.kube.rest import Rest, custom_path
from remedy.domain.audit import REPORTING_CONTROLLER, EventType, ObjectRef

log = logging.getLogger("remedy.audit")

EVENTS = ("events.k8s.io", "v1", "events")
_EVENTS = custom_path(*EVENTS)
EVENTS_API_VERSION = "events.k8s.io/v1"
INSTANCE_LIMIT = 128
NAME_LIMIT = 253
TIMEOUT_S = 2.0
PAUSE_S = 30.0


def reporting_instance(function: str, pod: str | None) -> str:
    """``<function>/<pod>`` (the pod's name is its HOSTNAME), at most 128 characters."""
    instance = f"{function}/{pod}" if pod and pod != function else function
    return instance[:INSTANCE_LIMIT]


def micro_time(moment: datetime) -> str:
    """A MicroTime as the apiserver parses it: always six fractional digits."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KubeAuditTrail:
    """:class:`remedy.ports.AuditTrail` over the official client (see the module)."""

    def __init__(
        self,
        api: client.ApiClient,
        *,
        instance: str,
        timeout_s: float = TIMEOUT_S,
        pause_s: float = PAUSE_S,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rest = Rest(api)
        self.instance = instance[:INSTANCE_LIMIT]
        self._timeout = (min(1.0, timeout_s), timeout_s)  # (connect, read)
        self._pause_s = pause_s
        self._now = now
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._last_ns = 0
        self._paused_until: float | None = None
        self._warned: set[tuple[str, str]] = set()
        self.written = 0
        self.failed = 0
        self.skipped = 0

    def record(
        self,
        regarding: ObjectRef,
        *,
        reason: str,
        action: str,
        note: str,
        type: EventType = "Normal",
    ) -> None:
        if self._skipping():
            log.debug("Event %s on %s skipped: writing is paused", reason, _key(regarding))
            return
        body = self.body(regarding, reason=reason, action=action, note=note, type=type)
        try:
            self._rest.request(
                "POST", _EVENTS, {"namespace": regarding.namespace},
                body=body, timeout=self._timeout, answer=False,
            )  # fmt: skip
        except Exception as exc:  # best-effort: nothing may escape into the step
            self._failed(exc, regarding, reason)
            return
        self._succeeded()

    def body(
        self, regarding: ObjectRef, *, reason: str, action: str, note: str, type: EventType
    ) -> dict[str, Any]:
        """The Event as sent (``events.k8s.io/v1``)."""
        reference = {
            "apiVersion": regarding.api_version,
            "kind": regarding.kind,
            "namespace": regarding.namespace,
            "name": regarding.name,
        }
        if regarding.uid:
            reference["uid"] = regarding.uid
        return {
            "apiVersion": EVENTS_API_VERSION,
            "kind": "Event",
            "metadata": {"name": self._name(regarding.name), "namespace": regarding.namespace},
            "eventTime": micro_time(self._now()),
            "reportingController": REPORTING_CONTROLLER,
            "reportingInstance": self.instance,
            "action": action,
            "reason": reason,
            "type": type,
            "regarding": reference,
            "note": note,
        }

    def _name(self, object_name: str) -> str:
        """``<object>.<hex nanoseconds>``, the nanoseconds increasing within the process."""
        with self._lock:
            self._last_ns = max(time.time_ns(), self._last_ns + 1)
            suffix = f".{self._last_ns:x}"
        base = object_name[: NAME_LIMIT - len(suffix)].rstrip("-.") or "remedy"
        return base + suffix

    def _skipping(self) -> bool:
        """Whether writing is paused (an outage); counts the Event skipped if so."""
        with self._lock:
            paused = self._paused_until is not None and self._monotonic() < self._paused_until
            self.skipped += paused
            return paused

    def _failed(self, exc: Exception, regarding: ObjectRef, reason: str) -> None:
        status = exc.status if isinstance(exc, ApiException) else None
        outage = status is None or status == 429 or status >= 500
        kind = str(status) if status is not None else type(exc).__name__
        with self._lock:
            self.failed += 1
            first = (kind, regarding.namespace) not in self._warned
            self._warned.add((kind, regarding.namespace))
            if outage:
                self._paused_until = self._monotonic() + self._pause_s
        what = f"HTTP {status}: {_message(exc)}" if status is not None else f"{kind}: {exc}"
        pause = f"; Events paused for {self._pause_s:g}s" if outage else ""
        log.log(
            logging.WARNING if first else logging.DEBUG,
            "Event %s on %s not written (%s)%s; the step goes on without it",
            reason,
            _key(regarding),
            what[:300],
            pause,
        )

    def _succeeded(self) -> None:
        with self._lock:
            self.written += 1
            recovered = self._paused_until is not None
            self._paused_until = None
        if recovered:
            log.info("Events are written again (%d skipped meanwhile)", self.skipped)


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None) or ""
    try:
        return str(json.loads(body).get("message", ""))
    except (ValueError, AttributeError):
        return str(body)[:200]


def _key(regarding: ObjectRef) -> str:
    return f"{regarding.kind} {regarding.namespace}/{regarding.name}"
