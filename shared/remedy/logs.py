"""One readable log line format for every remedy process.

Every line carries the delivery id (the correlation id of the GitHub delivery that
started the work) so a single remediation can be followed across functions; the id
lives in a context variable set by the function entry points. Secrets never reach a
log line: the redaction filter masks anything registered with :func:`register_secret`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
from collections.abc import Iterator

_delivery: contextvars.ContextVar[str] = contextvars.ContextVar("remedy_delivery", default="-")
_secrets: set[str] = set()

FORMAT = "%(asctime)s %(levelname)-5s [%(delivery)s] %(name)s: %(message)s"


def register_secret(value: str) -> None:
    """Never print ``value`` (a webhook secret, a token) in any log line."""
    if len(value) >= 4:
        _secrets.add(value)


@contextlib.contextmanager
def delivery_context(delivery_id: str | None) -> Iterator[None]:
    token = _delivery.set(delivery_id or "-")
    try:
        yield
    finally:
        _delivery.reset(token)


def current_delivery() -> str:
    return _delivery.get()


def redact(text: str) -> str:
    """``text`` with every registered secret masked."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.delivery = _delivery.get()
        if _secrets:
            record.msg, record.args = redact(record.getMessage()), None
        return True


def configure(level: str | None = None) -> None:
    """Idempotently install remedy's format and filters on the root logger."""
    root = logging.getLogger()
    if any(getattr(h, "_remedy", False) for h in root.handlers):
        return
    handler = logging.StreamHandler()
    handler._remedy = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(level or os.environ.get("REMEDY_LOG_LEVEL", "INFO"))
