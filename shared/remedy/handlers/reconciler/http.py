"""The reconciler's HTTP edge: the PingSource's tick on ``/``, dead letters on ``/dead-letter``.

Unlike the chain's functions it answers on two paths — the Broker's ``deadLetterSink``
names ``/dead-letter`` — and never replies with an event: whatever it has to say next
it sends itself through ``K_SINK``. So both paths answer 202 with an empty body (a 2xx
with any other body would count as a failed delivery). A tick that cannot list the
tasks answers 503 (the ping is retried; ticks are idempotent). A dead letter is always
logged first; only when recording it in the task's state hits a busy lock or an
unavailable API does it answer 503, so the Broker retries that delivery instead of the
record being silently missing. ``GET /healthz`` answers the probes, ``GET /metrics``
the scrapes. A tick and a dead letter are each a step (:func:`remedy.traces.step`, timed
in the metrics as ``tick`` and ``dead-letter``); a dead letter's continues the trace of
the event that died, so the trace shows where it ended. Each dead letter is counted
once, when it is answered 202, by why the Broker gave it up and its event type.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Protocol

import flask
from cloudevents.http import CloudEvent

from remedy import logs, metrics, traces
from remedy.events.catalogue import PING
from remedy.events.codec import BadEvent, decode
from remedy.handlers.common import builtin
from remedy.handlers.common.http import json_response
from remedy.handlers.reconciler.dead_letters import Recorded
from remedy.handlers.reconciler.reconciler import TickReport
from remedy.ports import RetryLater

log = logging.getLogger("remedy.reconciler")

NAME = "reconciler"
DEAD_LETTER_PATH = "/dead-letter"


class ReconcilerService(Protocol):
    def tick(self) -> TickReport: ...

    def dead_letter(self, event: CloudEvent) -> Recorded: ...


def reconciler_function(
    factory: Callable[[], ReconcilerService],
) -> Callable[[flask.Request], flask.Response]:
    """A functions-framework ``http`` entry point; ``factory`` runs on the first request."""
    logs.configure()
    service = functools.cache(factory)

    def handle(request: flask.Request) -> flask.Response:
        if (answered := builtin.answer(request, service, function=NAME)) is not None:
            return answered
        path = request.path.rstrip("/") or "/"
        if path not in ("/", DEAD_LETTER_PATH):
            return _error(404, "not_found", f"{NAME} serves / (ping) and {DEAD_LETTER_PATH}")
        if request.method != "POST":
            return _error(405, "method_not_allowed", f"{NAME} takes CloudEvents by POST")
        with logs.context(function=NAME):
            try:
                event = decode(dict(request.headers), request.get_data())
            except BadEvent as exc:
                log.warning("rejected on %s: %s", path, exc)
                return _error(400, "bad_event", str(exc))
            attributes = event.get_attributes()
            letter = path == DEAD_LETTER_PATH
            correlation = attributes.get("correlationid")
            delivery = str(correlation) if correlation else None
            with (
                logs.context(delivery=delivery, task=attributes.get("taskid"),
                             epoch=attributes.get("epoch")),
                traces.step(NAME, name="dead-letter" if letter else "tick",
                            parent=attributes.get("traceparent"),
                            delivery=delivery,
                            attributes={"cloudevents.event_id": str(event["id"]),
                                        "cloudevents.event_type": str(event["type"])}) as step,
                metrics.timed(NAME, "dead-letter" if letter else "tick", step),
            ):  # fmt: skip
                step.describe()
                response = _dead_letter(service(), event) if letter else _tick(service(), event)
                if letter and response.status_code == 202:
                    metrics.dead_letter(attributes.get("knativeerrorcode"), str(event["type"]))
                step.finish(traces.outcome_of(response.status_code),
                            status_code=response.status_code)  # fmt: skip
                return response

    handle.__name__ = "handle"
    return handle


def _tick(service: ReconcilerService, event: CloudEvent) -> flask.Response:
    if event["type"] != PING:
        return _error(
            400,
            "rejected",
            f"{NAME} takes {PING} on / (dead letters go to {DEAD_LETTER_PATH}), "
            f"not {event['type']}",
        )
    try:
        service.tick()
    except RetryLater as exc:
        log.info("tick deferred: %s", exc)
        return _error(exc.status, "retry_later", str(exc))
    return flask.Response(b"", status=202)


def _dead_letter(service: ReconcilerService, event: CloudEvent) -> flask.Response:
    try:
        recorded = service.dead_letter(event)
    except RetryLater as exc:
        log.info("dead letter %s logged, not yet recorded: %s", event["id"], exc)
        return _error(exc.status, "retry_later", str(exc))
    except Exception:
        # retrying cannot fix a letter that does not fit the state; the log has it
        log.exception("dead letter %s logged but not recordable", event["id"])
        return flask.Response(b"", status=202)
    log.info("dead letter %s: %s", event["id"], recorded.note)
    return flask.Response(b"", status=202)


def _error(status: int, error: str, message: str) -> flask.Response:
    return json_response(status, {"error": error, "message": message})
