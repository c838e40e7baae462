"""Each request a function serves is one step: a span when tracing is on, a trace id in
every log line either way.

A function edge wraps its work in :func:`step`, which continues the W3C trace the
request belongs to (the incoming event's ``traceparent``; for the webhook, the trace its
delivery starts). With ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) set, the step is an OpenTelemetry span exported
over OTLP, through :mod:`remedy.otel` — imported here, inside a function, only then, so a
function without the variable never loads OpenTelemetry (cold starts pay every import).
Unset, the step is the span id :func:`remedy.events.tracing.child` derives, exported
nowhere. Either way the events the step emits carry the step's own traceparent (so the
next function's step is its child), and the log lines within carry its trace id.
``OTEL_SDK_DISABLED=true`` turns tracing off whatever the endpoint says.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import Protocol

from remedy import logs
from remedy.events import tracing

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
Attribute = str | int | bool
OUTCOMES = ("replied", "acknowledged", "done", "rejected", "retry_later", "failed")
"""``remedy.outcome`` of a step (see :func:`outcome_of`)."""


class Span(Protocol):
    """A step's exported span (:class:`remedy.otel.StepSpan`)."""

    @property
    def traceparent(self) -> str: ...

    def set_attribute(self, key: str, value: Attribute) -> None: ...

    def fail(self) -> None: ...


def enabled() -> bool:
    """Whether steps are exported as spans (an OTLP endpoint is set, the SDK not disabled)."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name, "").strip() for name in ENDPOINT_VARIABLES)


def prepare(function: str) -> None:
    """Build ``function``'s tracer now when tracing is on (``/healthz`` does, so the
    first request does not pay for it); nothing otherwise."""
    if enabled():
        from remedy import otel  # noqa: PLC0415  (only with tracing on: see the docstring)

        otel.tracer(function)


def outcome_of(status: int) -> str:
    """A step's outcome from its HTTP answer: retry_later is what a broker retries."""
    if status in (409, 429, 503):
        return "retry_later"
    if status >= 500:
        return "failed"
    if status >= 400:
        return "rejected"
    return "done"


class Step:
    """The step being served: its traceparent, and what it turned out to be about."""

    def __init__(self, traceparent: str, span: Span | None) -> None:
        self.traceparent = traceparent
        self.outcome: str | None = None
        """How it ended, once :meth:`finish` said (the metrics time steps by it)."""
        self._span = span

    def describe(self, *, task: object = None, epoch: object = None) -> None:
        """The task and epoch, once known: on the span and on the log lines from here."""
        logs.bind(task=task, epoch=epoch)
        fields = logs.current()
        if self._span is not None:
            if fields.task is not None:
                self._span.set_attribute("remedy.task", fields.task)
            if fields.epoch is not None:
                self._span.set_attribute("remedy.epoch", fields.epoch)

    def finish(
        self, outcome: str, *, status_code: int | None = None, **attributes: Attribute | None
    ) -> None:
        """How the step ended: ``remedy.outcome``, the HTTP status it answered
        (``http.response.status_code``) and more ``remedy.*`` attributes."""
        self.outcome = outcome
        if self._span is None:
            return
        self._span.set_attribute("remedy.outcome", outcome)
        if status_code is not None:
            self._span.set_attribute("http.response.status_code", status_code)
        for key, value in attributes.items():
            if value is not None:
                self._span.set_attribute(f"remedy.{key}", value)
        if outcome == "failed":
            self._span.fail()


@contextlib.contextmanager
def step(
    function: str,
    *,
    name: str,
    parent: object = None,
    delivery: str | None = None,
    attributes: Mapping[str, Attribute | None] | None = None,
) -> Iterator[Step]:
    """Serve one step of ``function``: a child of ``parent`` (an untrusted traceparent),
    or the root of ``delivery``'s trace, or of a trace of its own."""
    continued = tracing.valid(parent if isinstance(parent, str) else None)
    with contextlib.ExitStack() as stack:
        span: Span | None = None
        if enabled():
            from remedy import otel  # noqa: PLC0415  (only with tracing on: see the docstring)

            root = tracing.delivery_trace_id(delivery) if delivery else None
            span = stack.enter_context(
                otel.span(function, name=name, parent=continued, root_trace_id=root)
            )
            for key, value in (attributes or {}).items():
                if value is not None:
                    span.set_attribute(key, value)
            own = span.traceparent
        elif continued is not None:
            own = tracing.child(continued, delivery_id=delivery or "")
        else:
            own = tracing.start(delivery) if delivery else tracing.fresh()
        stack.enter_context(tracing.stepping(tracing.Step(continued, delivery, own)))
        stack.enter_context(logs.context(function=function, trace_id=tracing.trace_id(own)))
        yield Step(own, span)
