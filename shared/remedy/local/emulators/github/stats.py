"""Requests counted per endpoint: remedy is judged by GitHub API calls per remediation.

Keys are ``"METHOD /template"`` with GitHub's own placeholders, e.g.
``"POST /repos/{owner}/{repo}/issues/{number}/labels"``, so a test or benchmark can
say "one add-labels call" without knowing repository names. Every API request
counts, whatever its answer (a 304, a 403 and a 404 are calls too); admin requests
do not.
"""

from __future__ import annotations

import threading
from collections import Counter


class RequestStats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: Counter[str] = Counter()
        self._statuses: Counter[int] = Counter()

    def count(self, endpoint: str, status: int) -> None:
        with self._lock:
            self._requests[endpoint] += 1
            self._statuses[status] += 1

    def requests(self) -> dict[str, int]:
        with self._lock:
            return dict(self._requests)

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": dict(self._requests),
                "statuses": {str(code): n for code, n in sorted(self._statuses.items())},
                "total": sum(self._requests.values()),
            }

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._statuses.clear()
