"""Steps as OpenTelemetry spans, exported over OTLP/HTTP (protobuf) in the background.

Imported by :mod:`remedy.traces` only when an OTLP endpoint is configured: a function
without one never loads OpenTelemetry (scale-to-zero pays every import on the path
users wait on). One tracer provider per process and function, built on first use
(``/healthz`` or the first step, whichever comes first); the SDK reads the standard
``OTEL_*`` variables itself (endpoint, headers, timeout, sampler, batch delays,
resource attributes). The service name is ``OTEL_SERVICE_NAME`` when set, else the
function's name. Spans go out in batches on a background thread, and the provider
flushes what is left when the process exits.

A step with no usable parent is the root of its trace; when it knows the delivery
that started the trace, the trace id is the delivery's (see
:func:`remedy.events.tracing.delivery_trace_id`), so GitHub's redeliveries of a
delivery land in the trace the first one started, as without OpenTelemetry.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from collections.abc import Iterator

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_root_trace: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "remedy_root_trace", default=None
)
_PROPAGATOR = TraceContextTextMapPropagator()


class _DeliveryTraceIds(RandomIdGenerator):
    """Random ids, but a root span started for a delivery gets the delivery's trace id."""

    def generate_trace_id(self) -> int:
        wanted = _root_trace.get()
        return wanted if wanted is not None else super().generate_trace_id()


@functools.cache
def tracer(function: str) -> trace.Tracer:
    """``function``'s tracer (its provider, exporter and batch thread made on first use)."""
    named = {} if os.environ.get("OTEL_SERVICE_NAME", "").strip() else {SERVICE_NAME: function}
    provider = TracerProvider(resource=Resource.create(named), id_generator=_DeliveryTraceIds())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider.get_tracer("remedy")


class StepSpan:
    """The span of one step, as :mod:`remedy.traces` uses it."""

    def __init__(self, span: trace.Span) -> None:
        self._span = span

    @property
    def traceparent(self) -> str:
        context = self._span.get_span_context()
        return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"

    def set_attribute(self, key: str, value: str | int | bool) -> None:
        self._span.set_attribute(key, value)

    def fail(self) -> None:
        self._span.set_status(trace.StatusCode.ERROR)


@contextlib.contextmanager
def span(
    function: str, *, name: str, parent: str | None, root_trace_id: str | None
) -> Iterator[StepSpan]:
    """A server span for one step: a child of ``parent`` (a valid traceparent), else a
    root, in trace ``root_trace_id`` when given. Ended (with an exception that escapes
    recorded, and the status set to error) when the block ends."""
    context = _PROPAGATOR.extract({"traceparent": parent}) if parent else Context()
    wanted = int(root_trace_id, 16) if parent is None and root_trace_id else None
    token = _root_trace.set(wanted)
    try:
        started = tracer(function).start_span(name, context=context, kind=trace.SpanKind.SERVER)
    finally:
        _root_trace.reset(token)
    with trace.use_span(started, end_on_exit=True):
        yield StepSpan(started)
