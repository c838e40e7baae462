"""Redis, over independent masters: the parallel fan-out, Redlock with fencing tokens,
the idempotency ledger (and its port adapter) and the per-task push logs.

redis-py (8.x) tries ``import opentelemetry.sdk.metrics`` when it is imported, for
metrics of its own remedy never turns on; with the OpenTelemetry SDK installed (remedy
exports traces with it) that would load ~36 ms of it into every cold start of every
function using Redis, tracing on or off. So redis is imported here, before any module of
this package imports it, with ``opentelemetry`` marked absent (``sys.modules[name] =
None`` makes an import of it fail at once); redis-py then runs without its
OpenTelemetry metrics, and :mod:`remedy.otel` imports OpenTelemetry normally when
tracing is on.
"""

import sys

if "opentelemetry" not in sys.modules and "redis" not in sys.modules:
    sys.modules["opentelemetry"] = None  # type: ignore[assignment]
    try:
        import redis  # noqa: F401  (see the docstring)
    finally:
        del sys.modules["opentelemetry"]
