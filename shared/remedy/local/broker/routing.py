"""What happens when an event enters the broker, from ingress or as a reply.

Knative's ingress (``pkg/broker/ingress`` with ``broker.TTLDefaulter``) gives an event
without ``knativebrokerttl`` a TTL of 255, decrements one it already has, and refuses
the event when the result is zero or less; a reply enters the same way, carrying the
TTL its trigger event had, so a loop of replies dies out. Ingress also stamps
``knativearrivaltime``. The accepted event then fans out: every Trigger whose filter
does not fail gets its own, independent delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from remedy.local.broker.delivery import TTL, Delivery, Sessions
from remedy.local.broker.envelopes import Envelope
from remedy.local.broker.filters import Filter, FilterResult
from remedy.local.broker.manifests import Topology
from remedy.local.broker.policy import DeliveryPolicy
from remedy.local.broker.records import DropRecord, Records
from remedy.local.broker.scheduler import Scheduler
from remedy.logs import delivery_context

log = logging.getLogger("remedy.local.broker")

DEFAULT_TTL = 255
ARRIVAL_TIME = "knativearrivaltime"


class TTLExhausted(ValueError):
    """The event has travelled through the broker too many times (a reply loop)."""


def next_ttl(event: Envelope) -> int:
    raw = event.get(TTL)
    if raw is None:
        return DEFAULT_TTL
    try:
        ttl = max(int(raw) - 1, 0)
    except ValueError:
        return DEFAULT_TTL  # Knative defaults a TTL it cannot read as an integer
    if ttl <= 0:
        raise TTLExhausted(f"{TTL} of event {event.id} reached zero")
    return ttl


@dataclass(frozen=True)
class Route:
    trigger: str
    filter: Filter
    target: str
    dead_letter_target: str | None
    policy: DeliveryPolicy


def routes(topology: Topology, subscribers: Mapping[str, str]) -> tuple[Route, ...]:
    missing = sorted(topology.referenced_services() - set(subscribers))
    if missing:
        raise ValueError(f"no URL given for the Knative Services {missing} the Triggers use")
    result = []
    for trigger in topology.triggers:
        policy = topology.delivery_for(trigger)
        sink = policy.dead_letter
        result.append(
            Route(
                trigger=trigger.name,
                filter=trigger.filter,
                target=trigger.subscriber.resolve(subscribers),
                dead_letter_target=sink.resolve(subscribers) if sink else None,
                policy=policy,
            )
        )
    return tuple(result)


class Router:
    def __init__(
        self,
        *,
        routes: tuple[Route, ...],
        records: Records,
        scheduler: Scheduler,
        sessions: Sessions,
    ) -> None:
        self._routes = routes
        self._records = records
        self._scheduler = scheduler
        self._sessions = sessions

    def accept(self, event: Envelope, origin: str) -> Envelope:
        """Stamp ``event``, fan it out; TTLExhausted when it must be refused."""
        ttl = next_ttl(event)
        stamped = event.replace(
            {TTL: str(ttl), ARRIVAL_TIME: datetime.now(UTC).isoformat().replace("+00:00", "Z")}
        )
        self._records.accepted(stamped)
        outgoing = stamped.replace({TTL: None})
        matched = []
        for route in self._routes:
            if route.filter(outgoing) is FilterResult.FAIL:
                continue
            matched.append(route.trigger)
            Delivery(
                trigger=route.trigger,
                event=outgoing,
                ttl=ttl,
                target=route.target,
                dead_letter_target=route.dead_letter_target,
                policy=route.policy,
                sessions=self._sessions,
                scheduler=self._scheduler,
                records=self._records,
                republish=self.republish,
            ).start()
        with delivery_context(event.get("correlationid") or event.id):
            log.debug("accepted %s %s (%s) for %s", event.type, event.id, origin, matched or "none")
        return stamped

    def republish(self, event: Envelope, origin: str) -> None:
        """A reply re-entering the broker; dropped (and logged) when its TTL runs out."""
        try:
            self.accept(event, origin)
        except TTLExhausted as exc:
            self._records.drop(DropRecord(event, f"{origin}: {exc}"))
            with delivery_context(event.get("correlationid") or event.id):
                log.warning("dropped %s %s (%s): %s", event.type, event.id, origin, exc)
