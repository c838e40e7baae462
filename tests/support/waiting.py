"""Waiting on a condition with a deadline, instead of sleeping for a guessed time.

Tests of background work (the agent simulator, watches, control-api's announcements,
subscribers of the local broker, the processes of ``remedy up``) poll until what they
wait for is true. This is the one poll-until helper of the suite: every caller states
its own deadline, its poll interval (fast for in-process work, slower for another
process's effects, where a poll costs real requests) and what it waits for, so a
failure says what never happened and, with ``describe``, what the world looked like.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(
    check: Callable[[], T | None],
    *,
    timeout: float = 10.0,
    every: float = 0.01,
    what: str = "the condition",
    describe: Callable[[], object] | None = None,
) -> T:
    """Poll ``check`` every ``every`` seconds until it returns something truthy; return it.

    ``check`` runs once more after the deadline has passed; when that is falsy too, an
    ``AssertionError`` says ``what`` was not met within ``timeout`` seconds, followed by
    ``describe()`` (the state waited on) when given. An exception ``check`` raises
    propagates at once (a process that died will not start answering).
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            message = f"timed out after {timeout:g}s waiting for {what}"
            if describe is not None:
                message += f"\n{describe()}"
            raise AssertionError(message)
        time.sleep(every)
