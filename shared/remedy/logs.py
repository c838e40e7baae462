"""One log line format for every remedy process: readable text, or one JSON object a line.

``REMEDY_LOG_FORMAT`` chooses: ``text`` (the default, for people at a terminal) or
``json`` (the deployment's, for a log pipeline). Every line carries what a step is
about, kept in a context variable the function edges set: the function, the delivery id
(the correlation id of the GitHub delivery that started the work, so one remediation
can be followed across functions), the trace id, the task and its epoch. Secrets never
reach a log line: whatever is registered with :func:`register_secret` is masked in the
message and in any traceback, in both formats.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

FORMAT_VARIABLE = "REMEDY_LOG_FORMAT"
FORMATS = ("text", "json")
FORMAT = "%(asctime)s %(levelname)-5s [%(delivery)s %(trace_id)s] %(name)s: %(message)s"
"""The text format; the JSON format's fields are :data:`JSON_FIELDS`."""
JSON_FIELDS = (
    "time", "level", "function", "delivery_id", "trace_id", "task", "epoch", "logger", "message",
)  # fmt: skip
"""Every JSON line's keys, in order (``exception`` follows when there is a traceback)."""


@dataclass(frozen=True)
class Fields:
    """What the lines logged within a step say about it (None: not known there)."""

    function: str | None = None
    delivery: str | None = None
    trace_id: str | None = None
    task: int | None = None
    epoch: int | None = None


_fields: contextvars.ContextVar[Fields] = contextvars.ContextVar(
    "remedy_log",
    default=Fields(),  # noqa: B039 (frozen: never mutated, only replaced)
)
_secrets: set[str] = set()


def register_secret(value: str) -> None:
    """Never print ``value`` (a webhook secret, a token) in any log line."""
    if len(value) >= 4:
        _secrets.add(value)


def redact(text: str) -> str:
    """``text`` with every registered secret masked."""
    for secret in _secrets:
        text = text.replace(secret, "***")
    return text


def _number(value: object) -> int | None:
    """A task id or epoch as a number; None for anything else (events are untrusted)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        return int(value)
    return None


@contextlib.contextmanager
def context(
    *,
    function: str | None = None,
    delivery: str | None = None,
    trace_id: str | None = None,
    task: object = None,
    epoch: object = None,
) -> Iterator[None]:
    """Within the block, log lines carry the fields given (the others stay as they were)."""
    token = _fields.set(_merged(function, delivery, trace_id, task, epoch))
    try:
        yield
    finally:
        _fields.reset(token)


def bind(*, task: object = None, epoch: object = None) -> None:
    """From here to the end of the enclosing :func:`context`, lines carry ``task`` and
    ``epoch`` (for a step that learns them as it goes). Only call it inside a context."""
    _fields.set(_merged(None, None, None, task, epoch))


def _merged(
    function: str | None, delivery: str | None, trace_id: str | None, task: object, epoch: object
) -> Fields:
    now, task_id, epoch_number = _fields.get(), _number(task), _number(epoch)
    return Fields(
        function=function if function is not None else now.function,
        delivery=delivery if delivery is not None else now.delivery,
        trace_id=trace_id if trace_id is not None else now.trace_id,
        task=task_id if task_id is not None else now.task,
        epoch=epoch_number if epoch_number is not None else now.epoch,
    )


@contextlib.contextmanager
def delivery_context(delivery_id: str | None) -> Iterator[None]:
    with context(delivery=delivery_id or None):
        yield


def current_delivery() -> str:
    return _fields.get().delivery or "-"


def current() -> Fields:
    """The fields the next line logged here would carry."""
    return _fields.get()


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        fields = _fields.get()
        if fields.function is None:
            # outside a request: the process's own function (Knative's K_SERVICE)
            fields = dataclasses.replace(fields, function=os.environ.get("K_SERVICE") or None)
        record.remedy = fields
        record.delivery = fields.delivery or "-"
        record.trace_id = fields.trace_id or "-"
        if _secrets:
            record.msg, record.args = redact(record.getMessage()), None
        return True


class TextFormatter(logging.Formatter):
    """:data:`FORMAT`, tracebacks included, with every registered secret masked."""

    def __init__(self) -> None:
        super().__init__(FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line: :data:`JSON_FIELDS`, then ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "remedy", None)
        if not isinstance(fields, Fields):
            fields = _fields.get()
        moment = datetime.fromtimestamp(record.created, UTC)
        entry: dict[str, Any] = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "function": fields.function,
            "delivery_id": fields.delivery,
            "trace_id": fields.trace_id,
            "task": fields.task,
            "epoch": fields.epoch,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = redact(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def log_format(env: dict[str, str] | None = None) -> str:
    """``REMEDY_LOG_FORMAT``: ``text`` unless set; anything else fails naming it."""
    value = (env if env is not None else os.environ).get("REMEDY_LOG_FORMAT", "text")
    chosen = value.strip().lower() or "text"
    if chosen not in FORMATS:
        raise ValueError(f"{FORMAT_VARIABLE} must be text or json, not {value!r}")
    return chosen


def handler(stream: IO[str] | None = None, *, fmt: str | None = None) -> logging.Handler:
    """A handler writing remedy's lines (``fmt``, else ``REMEDY_LOG_FORMAT``) to ``stream``."""
    chosen = fmt or log_format()
    made = logging.StreamHandler(stream if stream is not None else sys.stderr)
    made.setFormatter(JsonFormatter() if chosen == "json" else TextFormatter())
    made.addFilter(_ContextFilter())
    return made


def configure(level: str | None = None) -> None:
    """Idempotently install remedy's format and filters on the root logger.

    A malformed ``REMEDY_LOG_FORMAT`` raises, so a function fails at start-up naming it.
    """
    root = logging.getLogger()
    if any(getattr(h, "_remedy", False) for h in root.handlers):
        return
    installed = handler()
    installed._remedy = True  # type: ignore[attr-defined]
    root.addHandler(installed)
    root.setLevel(level or os.environ.get("REMEDY_LOG_LEVEL", "INFO"))
