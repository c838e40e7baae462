"""An in-process circuit breaker for one GitHub API base URL, and the clock it reads.

When GitHub (or the path to it) is down, every remediation would otherwise spend its
whole request budget on timeouts and 5xx retries while Knative redelivers the same
events. After ``failures`` consecutive failed attempts the breaker opens: calls fail
at once with :class:`CircuitOpen` (a :class:`~remedy.ports.RetryLater`, so the event
is redelivered later rather than lost) and touch no network. After ``cooldown_s`` one
probe goes through (half-open); its success closes the breaker, its failure opens it
for another cooldown.

Only availability failures count: 5xx, timeouts and connection errors. A 404, a 401
or a rate limit is GitHub answering, so it counts as a success for the breaker.
Breakers are shared per base URL within the process (:func:`breaker_for`) because an
outage is a property of the host, not of one adapter instance. Time comes from an
injected :class:`Clock` so tests move it instead of sleeping. Each change of state is
published in the metrics (``remedy_github_circuit_breaker_state``) as it happens: an open
breaker whose cooldown ran out shows ``half-open`` once it lets its probe through.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal, Protocol

from remedy import metrics
from remedy.adapters.github.errors import CircuitOpen

State = Literal["closed", "open", "half-open"]


class Clock(Protocol):
    def monotonic(self) -> float: ...

    def time(self) -> float:
        """Wall-clock epoch seconds (GitHub's ``x-ratelimit-reset`` is one)."""
        ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@dataclass(frozen=True)
class BreakerSettings:
    failures: int = 5
    """Consecutive failed attempts that open the breaker."""
    cooldown_s: float = 30.0
    """How long an open breaker refuses calls before it lets one probe through."""

    def __post_init__(self) -> None:
        if self.failures < 1:
            raise ValueError("the breaker needs failures >= 1")
        if self.cooldown_s <= 0:
            raise ValueError("the breaker needs cooldown_s > 0")


class CircuitBreaker:
    def __init__(
        self, *, name: str, settings: BreakerSettings | None = None, clock: Clock | None = None
    ) -> None:
        self.name = name
        self.settings = settings or BreakerSettings()
        self._clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None  # monotonic
        self._probing = False
        self._shown: State = "closed"
        metrics.github_breaker("closed")

    @property
    def state(self) -> State:
        with self._lock:
            return self._state()

    def _state(self) -> State:
        if self._open_until is None:
            return "closed"
        if self._clock.monotonic() < self._open_until:
            return "open"
        return "half-open"

    def admit(self) -> None:
        """Let one attempt through or raise :class:`CircuitOpen` without any I/O."""
        with self._lock:
            state = self._state()
            if state == "closed":
                return
            if state == "half-open" and not self._probing:
                self._probing = True
                self._show("half-open")
                return
            remaining = self._remaining()
        raise CircuitOpen(
            f"GitHub at {self.name} failed {self.settings.failures} times in a row; "
            f"not calling it for another {remaining:.1f} s",
            retry_after_s=remaining,
        )

    def _remaining(self) -> float:
        assert self._open_until is not None
        left = min(self._open_until - self._clock.monotonic(), self.settings.cooldown_s)
        # While a probe is out the wait is unknown; a second is a fair guess to retry.
        return left if left > 0 else 1.0

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._open_until = None
            self._probing = False
            self._show("closed")

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.settings.failures:
                self._open_until = self._clock.monotonic() + self.settings.cooldown_s
                self._show("open")
            self._probing = False

    def _show(self, state: State) -> None:
        """Publish ``state`` when it changed (under the lock: a look-up, no I/O)."""
        if state != self._shown:
            self._shown = state
            metrics.github_breaker(state)


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def breaker_for(base_url: str, settings: BreakerSettings | None = None) -> CircuitBreaker:
    """The process-wide breaker of ``base_url`` (created with ``settings`` on first use)."""
    key = base_url.rstrip("/").lower()
    with _registry_lock:
        breaker = _registry.get(key)
        if breaker is None:
            breaker = _registry[key] = CircuitBreaker(name=key, settings=settings)
        return breaker
