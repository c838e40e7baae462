"""The HTTP edge of every function: Flask request in, status code out.

functions-framework's ``@cloud_event`` decorator always answers ``200 "OK"``, which a
Knative broker counts as a failed delivery (a 2xx that is not a CloudEvent) and retries
forever. So functions use the ``http`` signature and answer the way the
broker understands: 200 + a binary-mode CloudEvent (a reply), 202 with an empty body
(taken, nothing follows), 4xx (rejected: not retried, dead-lettered with the reason),
409/503 (retry later), 500 (unexpected; retried). ``GET /healthz`` answers the probes
(:mod:`remedy.handlers.common.health`), ``GET /metrics`` the scrapes
(:mod:`remedy.handlers.common.scrape`).

Each request is one step (:func:`remedy.traces.step`): it continues the trace of the
incoming event (the webhook's: the trace its delivery starts), its reply names the step
as parent, and its log lines carry the function, delivery id, trace id, task and epoch.
Its duration and outcome are recorded in the metrics (:func:`remedy.metrics.timed`, by
the event's type).

The edge comes in two kinds, one module each, and this package imports neither: a
function loads only its own (webhook-gateway never loads pydantic or the event models).

- :mod:`remedy.entrypoints.events` — a CloudEvent from the broker in, a reply event or
  a status out (every function behind the broker);
- :mod:`remedy.entrypoints.webhook` — a GitHub webhook in, verified and forwarded
  (webhook-gateway).
"""
