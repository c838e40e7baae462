"""A contender wakes when the holder releases, not when its back-off runs out.

A release leaves one wake token on each master where it deleted the lock; a contender
between attempts blocks on that list (``BLPOP``) on one master. The tests make the
back-off far longer than the acquisition timeout, so only a wake can hand the lock over
in time, and they start the release only once the contender is seen blocked on Redis.
"""

from __future__ import annotations

import threading

import pytest
import redis

from remedy.adapters.redis import redlock as redlock_module
from remedy.adapters.redis.redlock import LockGrant, LockUnavailable, Redlock
from remedy.adapters.redis.redlock_scripts import WAKE_TTL_MS, wake_key
from tests.support.waiting import eventually


def _blocked_clients(urls: list[str]) -> int:
    """Clients blocked in BLPOP right now (flag ``b``; ``cmd`` alone is the last command)."""
    return sum(
        1
        for url in urls
        for client in redis.Redis.from_url(url).client_list()
        if client.get("cmd") == "blpop" and "b" in client.get("flags", "")
    )


@pytest.fixture
def slow_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Back-off of a minute: a retry within the test's timeouts must come from a wake."""
    monkeypatch.setattr(redlock_module, "RETRY_BASE_S", 60.0)
    monkeypatch.setattr(redlock_module, "RETRY_CAP_S", 60.0)


def test_release_leaves_one_short_lived_wake_token(redlock: Redlock, redis_urls: list[str]) -> None:
    for _ in range(3):
        redlock.release(redlock.acquire("res:w1"))
    for url in redis_urls:
        client = redis.Redis.from_url(url)
        assert client.lrange(wake_key("res:w1"), 0, -1) == [b"1"]
        assert 0 < client.pttl(wake_key("res:w1")) <= WAKE_TTL_MS


def test_a_release_that_is_not_ours_wakes_nobody(redlock: Redlock, redis_urls: list[str]) -> None:
    grant = redlock.acquire("res:w2")
    forged = LockGrant("res:w2", "not-the-token", grant.fence, 1.0, 0.0, 1.0)
    assert redlock.release(forged) is False
    assert all(redis.Redis.from_url(u).exists(wake_key("res:w2")) == 0 for u in redis_urls)


@pytest.mark.usefixtures("slow_backoff")
def test_a_contender_takes_the_lock_as_soon_as_it_is_released(
    redlock: Redlock, redis_urls: list[str]
) -> None:
    held = redlock.acquire("res:w3")
    taken: list[LockGrant] = []
    failed: list[BaseException] = []

    def contend() -> None:
        try:
            taken.append(redlock.acquire("res:w3", timeout_s=20.0))
        except LockUnavailable as exc:
            failed.append(exc)

    contender = threading.Thread(target=contend)
    contender.start()
    eventually(lambda: _blocked_clients(redis_urls) == 1, timeout=10, every=0.01)
    redlock.release(held)
    contender.join(timeout=15)
    assert not contender.is_alive(), "the contender slept out its back-off"
    assert not failed
    assert taken and taken[0].fence > held.fence


@pytest.mark.usefixtures("slow_backoff")
def test_without_a_release_the_contender_gives_up_at_its_timeout(redlock: Redlock) -> None:
    redlock.acquire("res:w4")
    with pytest.raises(LockUnavailable, match="res:w4"):
        redlock.acquire("res:w4", timeout_s=0.2)


def test_wait_for_returns_at_once_on_a_token_and_false_on_silence(
    redlock: Redlock, redis_urls: list[str]
) -> None:
    redlock.release(redlock.acquire("res:w5"))  # leaves a token; the nodes are known healthy
    assert redlock.nodes.wait_for(wake_key("res:w5"), timeout_s=30.0) is True
    assert redlock.nodes.wait_for(wake_key("res:w5"), timeout_s=0.05) is False
