"""Primary and secondary rate limits, as GitHub documents them.

From "Rate limits for the REST API" (docs.github.com/rest/using-the-rest-api/
rate-limits-for-the-rest-api):

- every response carries ``x-ratelimit-limit/-remaining/-used/-reset/-resource``;
  ``reset`` is in UTC epoch seconds;
- past the primary limit the answer is 403 (or 429) with ``x-ratelimit-remaining: 0``
  and the client must wait until ``x-ratelimit-reset``;
- past a secondary limit the answer is 403 or 429 with a message saying so, and
  ``retry-after`` when GitHub knows how long to wait;
- ``GET /rate_limit`` does not count, and neither does a conditional request answered
  304 (best practices: "does not count against your primary rate limit").

The primary budget belongs to the user, shared by all of that user's tokens, as on
GitHub. The secondary limit is a sliding window the test configures (GitHub does not
publish exact numbers), plus ``trip`` to refuse the next N requests outright.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

PRIMARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-primary-rate-limits"
)
SECONDARY_DOCS = (
    "https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api"
    "#about-secondary-rate-limits"
)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


@dataclass(frozen=True, slots=True)
class Quota:
    limit: int
    remaining: int
    used: int
    reset: int
    resource: str = "core"

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("x-ratelimit-limit", str(self.limit)),
            ("x-ratelimit-remaining", str(self.remaining)),
            ("x-ratelimit-reset", str(self.reset)),
            ("x-ratelimit-used", str(self.used)),
            ("x-ratelimit-resource", self.resource),
        ]

    def as_json(self) -> dict[str, int]:
        return {
            "limit": self.limit,
            "used": self.used,
            "remaining": self.remaining,
            "reset": self.reset,
        }


class PrimaryLimit:
    """A fixed hourly (configurable) window of ``limit`` requests per user."""

    def __init__(
        self,
        *,
        limit: int = 5000,
        window_seconds: float = 3600,
        status: int = 403,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.limit = limit
        self.window_seconds = window_seconds
        self.status = status
        self._buckets: dict[str, list[float]] = {}  # login -> [used, window start]

    def configure(
        self,
        *,
        limit: int | None = None,
        window_seconds: float | None = None,
        status: int | None = None,
    ) -> None:
        if limit is not None and limit < 0:
            raise ValueError("limit must be >= 0")
        if window_seconds is not None and window_seconds <= 0:
            raise ValueError("window_seconds must be > 0")
        if status is not None and status not in (403, 429):
            raise ValueError("GitHub answers an exhausted primary limit with 403 or 429")
        with self._lock:
            self.limit = self.limit if limit is None else limit
            self.window_seconds = self.window_seconds if window_seconds is None else window_seconds
            self.status = self.status if status is None else status

    def _bucket(self, login: str) -> list[float]:
        now = self._clock()
        bucket = self._buckets.get(login)
        if bucket is None or now >= bucket[1] + self.window_seconds:
            bucket = self._buckets[login] = [0, now]
        return bucket

    def _quota(self, bucket: list[float]) -> Quota:
        used = int(bucket[0])
        return Quota(
            limit=self.limit,
            remaining=max(self.limit - used, 0),
            used=used,
            reset=math.ceil(bucket[1] + self.window_seconds),
        )

    def acquire(self, login: str) -> tuple[bool, Quota]:
        """Spend one request of ``login``'s budget; ``False`` when none is left."""
        with self._lock:
            bucket = self._bucket(login)
            if bucket[0] >= self.limit:
                return False, self._quota(bucket)
            bucket[0] += 1
            return True, self._quota(bucket)

    def refund(self, login: str) -> Quota:
        """Give back one request (the answer was a 304)."""
        with self._lock:
            bucket = self._bucket(login)
            bucket[0] = max(bucket[0] - 1, 0)
            return self._quota(bucket)

    def peek(self, login: str) -> Quota:
        with self._lock:
            return self._quota(self._bucket(login))

    def set_remaining(self, login: str, remaining: int) -> Quota:
        """Jump ``login``'s window to ``remaining`` requests left (to exhaust it fast)."""
        with self._lock:
            bucket = self._bucket(login)
            bucket[0] = max(self.limit - remaining, 0)
            return self._quota(bucket)

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


@dataclass(frozen=True, slots=True)
class Refusal:
    status: int
    retry_after: int
    message: str = SECONDARY_MESSAGE


class SecondaryLimit:
    """At most ``max_requests`` per ``window_seconds`` per user, and forced trips."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self.max_requests: int | None = None
        self.window_seconds = 60.0
        self.status = 403
        self.retry_after: int | None = None
        self.writes_only = False
        self._seen: dict[str, deque[float]] = {}
        self._trips: list[Refusal] = []

    def configure(
        self,
        *,
        max_requests: int,
        window_seconds: float = 60.0,
        status: int = 403,
        retry_after: int | None = None,
        writes_only: bool = False,
    ) -> None:
        _check(status=status, retry_after=retry_after)
        if max_requests < 1 or window_seconds <= 0:
            raise ValueError("max_requests must be >= 1 and window_seconds > 0")
        with self._lock:
            self.max_requests, self.window_seconds = max_requests, window_seconds
            self.status, self.retry_after, self.writes_only = status, retry_after, writes_only
            self._seen.clear()

    def trip(self, *, count: int = 1, status: int = 403, retry_after: int = 60) -> None:
        """Refuse the next ``count`` requests (of anyone) as secondary-limited."""
        _check(status=status, retry_after=retry_after)
        if count < 1:
            raise ValueError("count must be >= 1")
        with self._lock:
            self._trips.extend(Refusal(status, retry_after) for _ in range(count))

    def disable(self) -> None:
        with self._lock:
            self.max_requests = None
            self._seen.clear()
            self._trips.clear()

    def check(self, login: str, method: str) -> Refusal | None:
        """Admit one request of ``login`` or say why not."""
        with self._lock:
            if self._trips:
                return self._trips.pop(0)
            if self.max_requests is None or (self.writes_only and method not in WRITE_METHODS):
                return None
            now = self._clock()
            seen = self._seen.setdefault(login, deque())
            while seen and seen[0] <= now - self.window_seconds:
                seen.popleft()
            if len(seen) >= self.max_requests:
                wait = self.retry_after
                if wait is None:
                    wait = max(math.ceil(seen[0] + self.window_seconds - now), 1)
                return Refusal(self.status, wait)
            seen.append(now)
            return None


def _check(*, status: int, retry_after: int | None) -> None:
    if status not in (403, 429):
        raise ValueError("GitHub answers a secondary rate limit with 403 or 429")
    if retry_after is not None and retry_after < 0:
        raise ValueError("retry_after must be >= 0 seconds")
