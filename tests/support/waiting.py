"""Waiting on a condition with a deadline, instead of sleeping for a guessed time.

Tests of background work (the agent simulator, watches, control-api's announcements)
poll until what they wait for is true; one copy keeps the failure message and the
deadline handling the same everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T | None], *, timeout: float = 10.0, every: float = 0.01) -> T:
    """Poll ``check`` until it returns something truthy; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(every)
