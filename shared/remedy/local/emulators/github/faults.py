"""Injected failures: answer the next matching request(s) with a chosen error.

remedy must survive GitHub's bad moments (a 502 from the edge, a 500, an abuse
refusal); a test arms a fault for one endpoint and asserts remedy's retry behaviour
and effects. A fault matches on method and endpoint template (as counted in the
stats, e.g. ``/repos/{owner}/{repo}/issues/{number}/labels``); ``None`` matches any.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(slots=True)
class Fault:
    status: int
    method: str | None = None
    endpoint: str | None = None
    count: int | None = 1  # None: until cleared
    message: str = "Server Error"
    retry_after: int | None = None

    def __post_init__(self) -> None:
        if not 400 <= self.status <= 599:
            raise ValueError("a fault's status must be an HTTP error (400-599)")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1 (or None for 'until cleared')")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0 seconds")
        if self.method is not None:
            self.method = self.method.upper()

    def matches(self, method: str, endpoint: str) -> bool:
        return (self.method is None or self.method == method) and (
            self.endpoint is None or self.endpoint == endpoint
        )


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(fault)

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, method: str, endpoint: str) -> Fault | None:
        """The first armed fault for this request, used up by one."""
        if not self._armed:  # the hot path: nothing armed, no lock taken
            return None
        with self._lock:
            for fault in self._armed:
                if fault.matches(method, endpoint):
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count == 0:
                            self._armed.remove(fault)
                    return fault
        return None
