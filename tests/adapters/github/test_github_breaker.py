"""The circuit breaker on its own, on a fake clock.

Behaviours covered:
- it opens only after N *consecutive* failures (a success resets the count);
- open: ``admit`` raises ``CircuitOpen`` (a ``RetryLater``) with the time left;
- after the cooldown exactly one caller gets through as the probe, also when many
  threads ask at once; the probe's success closes the breaker, its failure opens it
  for a whole new cooldown;
- breakers are shared per API base URL (case and trailing ``/`` do not matter);
- settings refuse a zero threshold or cooldown.
"""

from __future__ import annotations

import threading

import pytest

from remedy.adapters.github.breaker import BreakerSettings, CircuitBreaker, breaker_for
from remedy.adapters.github.errors import CircuitOpen
from remedy.ports import RetryLater

from .conftest import FakeClock, state


def fail(breaker: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        breaker.admit()
        breaker.failed()


def test_opens_only_after_consecutive_failures(breaker: CircuitBreaker) -> None:
    fail(breaker, 2)
    breaker.admit()
    breaker.succeeded()
    fail(breaker, 2)
    assert state(breaker) == "closed"
    fail(breaker, 1)
    assert state(breaker) == "open"


def test_open_breaker_refuses_with_the_time_left(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(10)
    with pytest.raises(CircuitOpen) as raised:
        breaker.admit()
    assert isinstance(raised.value, RetryLater)
    assert raised.value.retry_after_s == pytest.approx(20)


def test_one_probe_after_the_cooldown_and_its_success_closes(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.advance(30)
    assert state(breaker) == "half-open"
    breaker.admit()
    with pytest.raises(CircuitOpen):
        breaker.admit()  # the probe is still out
    breaker.succeeded()
    assert state(breaker) == "closed"
    breaker.admit()


def test_failed_probe_opens_for_a_whole_cooldown(breaker: CircuitBreaker, clock: FakeClock) -> None:
    fail(breaker, 3)
    clock.advance(45)
    breaker.admit()
    breaker.failed()
    assert state(breaker) == "open"
    clock.advance(29)
    assert state(breaker) == "open"
    clock.advance(1)
    assert state(breaker) == "half-open"


def test_many_threads_in_half_open_let_exactly_one_probe_through(
    breaker: CircuitBreaker, clock: FakeClock
) -> None:
    fail(breaker, 3)
    clock.advance(30)
    threads = 16
    start = threading.Barrier(threads)
    admitted: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        start.wait(timeout=5)
        try:
            breaker.admit()
            outcome = True
        except CircuitOpen:
            outcome = False
        with lock:
            admitted.append(outcome)

    workers = [threading.Thread(target=ask) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=5)
    assert sorted(admitted) == [False] * (threads - 1) + [True]


def test_breakers_are_shared_per_base_url() -> None:
    first = breaker_for("http://127.0.0.1:1/api/v3/")
    assert breaker_for("HTTP://127.0.0.1:1/api/v3") is first
    assert breaker_for("http://127.0.0.1:2/api/v3") is not first


@pytest.mark.parametrize(("failures", "cooldown_s"), [(0, 30.0), (3, 0.0), (3, -1.0)])
def test_settings_refuse_nonsense(failures: int, cooldown_s: float) -> None:
    with pytest.raises(ValueError, match="breaker needs"):
        BreakerSettings(failures=failures, cooldown_s=cooldown_s)
