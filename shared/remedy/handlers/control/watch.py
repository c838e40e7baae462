"""Watching a task's cancellations: a stream of JSON lines, one per change.

People and agents watch a cancellation play out: the first line is the current view,
then one line each time the cancellations (or the epoch) change, and a last line saying
why the stream ended — every cancellation of the current epoch stopped, the timeout,
or the task's state gone. The state store is polled (every 100 ms by default): the
state is one small ConfigMap read, and polling keeps control-api free of a watch
client and its reconnect logic; a change is seen within one interval.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from remedy.domain.remediation import RemediationState
from remedy.ports import RemediationStates, RetryLater

log = logging.getLogger("remedy.control_api")

DEFAULT_TIMEOUT_S = 30
MAX_TIMEOUT_S = 300
"""Knative's default request timeout: a longer watch would be cut off anyway."""


def view(state: RemediationState) -> dict[str, Any]:
    """What a watcher sees of a task's cancellations."""
    ordered = sorted(state.cancellations.values(), key=lambda c: (c.epoch, c.key))
    return {
        "task_id": state.task_id,
        "epoch": state.epoch,
        "all_stopped": state.all_stopped(state.epoch),
        "cancellations": [c.model_dump(mode="json") for c in ordered],
    }


@dataclass(frozen=True)
class Polling:
    interval_s: float = 0.1
    monotonic: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep


def _line(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def watch(
    states: RemediationStates, task_id: int, *, timeout_s: float, polling: Polling
) -> Iterator[bytes]:
    """JSON lines: ``snapshot``, then ``changed`` per change, then ``end`` with a reason."""
    try:
        yield from _watch(states, task_id, timeout_s=timeout_s, polling=polling)
    except Exception:  # the status line is sent already: say so in the stream instead
        log.exception("watch of task %s failed", task_id)
        yield _line({"type": "end", "reason": "error", "task_id": task_id})


def _watch(
    states: RemediationStates, task_id: int, *, timeout_s: float, polling: Polling
) -> Iterator[bytes]:
    deadline = polling.monotonic() + timeout_s
    last: dict[str, Any] | None = None
    while True:
        current = _read(states, task_id, last)
        if current is None:
            yield _line({"type": "end", "reason": "no-state", "task_id": task_id})
            return
        if current != last:
            yield _line({"type": "snapshot" if last is None else "changed", **current})
            last = current
        if current["all_stopped"]:
            yield _line({"type": "end", "reason": "all-stopped", "task_id": task_id})
            return
        remaining = deadline - polling.monotonic()
        if remaining <= 0:
            yield _line({"type": "end", "reason": "timeout", "task_id": task_id})
            return
        polling.sleep(min(polling.interval_s, remaining))


def _read(
    states: RemediationStates, task_id: int, last: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The current view; the last one again while the store answers "retry later"."""
    try:
        state, _ = states.load(task_id)
    except RetryLater as exc:
        if last is None:
            raise
        log.info("watch of task %s: %s; still watching", task_id, exc)
        return last
    return view(state) if state is not None else None
