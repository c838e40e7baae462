"""Redlock on real masters: quorum, timeouts, release, extension, fencing counters.

Covers: a grant's fields (fence, validity below TTL minus drift, one key per resource
with the holder's token and a TTL); a held lock refuses others until released; 1 of 3
masters down still grants in one attempt, 2 of 3 down keeps trying until its timeout
and fails with a message naming the unreachable masters; a hung master does not keep a
single attempt from granting; only the owner's token releases (a forged or expired
grant does not); extension renews, is capped by count and by total hold time, and
fails once another holder took over; ``hold`` releases on exit, also on error; fences
strictly increase across holders, across a minority restart, and the quorum write-back
lifts lagging masters; failed attempts leave no key behind; bad resources and TTLs are
refused; ``task_lock_key``. How long an outage costs is measured by ``make bench``
(bench_outages), not asserted here.
"""

from __future__ import annotations

import dataclasses
import time

import pytest
import redis

from remedy.adapters.redis.redlock import (
    LockGrant,
    LockLost,
    LockUnavailable,
    Redlock,
    task_lock_key,
)
from remedy.adapters.redis.redlock_scripts import fence_key
from remedy.local.redis_servers import RedisServer
from tests.locks.conftest import MakeRedlock

TTL_S = 10.0


def raw(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def test_grant_is_recorded_on_every_master(redlock: Redlock, redis_urls: list[str]) -> None:
    before = time.monotonic()
    grant = redlock.acquire("res:a", ttl_s=TTL_S)
    assert grant.resource == "res:a"
    assert grant.fence > 0
    assert 0 < grant.validity_s <= TTL_S - (0.01 * TTL_S + 0.002)
    assert before <= grant.acquired_at <= grant.expires_at - grant.validity_s + 1e-9
    assert 0 < grant.remaining_s() <= grant.validity_s
    for url in redis_urls:
        client = raw(url)
        assert client.get("res:a") == grant.token.encode()
        assert 0 < client.pttl("res:a") <= TTL_S * 1000
        assert int(client.get(fence_key("res:a")) or 0) == grant.fence
        assert client.pttl(fence_key("res:a")) > TTL_S * 1000  # the counter outlives the lock
    assert "token" not in repr(grant)


def test_held_lock_refuses_others_until_released(redlock: Redlock) -> None:
    grant = redlock.acquire("res:b")
    with pytest.raises(LockUnavailable, match=r"'res:b'.*3 held by another holder.*retry later"):
        redlock.acquire("res:b", timeout_s=0.05)
    assert redlock.acquire("res:other", timeout_s=0)  # one key per resource
    assert redlock.release(grant) is True
    again = redlock.acquire("res:b", timeout_s=0)
    assert again.fence > grant.fence


def test_one_of_three_down_still_grants(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    redlock = make_redlock(own_redis_masters)
    assert redlock.release(redlock.acquire("res:warm", timeout_s=5)) is True  # connected
    own_redis_masters[2].stop()
    grant = redlock.acquire("res:c", timeout_s=0)  # one attempt: no retry for the third
    assert redlock.release(grant) is True


def test_two_of_three_down_fails_within_its_timeout(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    redlock = make_redlock(own_redis_masters)
    own_redis_masters[0].stop()
    own_redis_masters[1].stop()
    timeout = 0.3
    started = time.monotonic()
    with pytest.raises(LockUnavailable) as caught:
        redlock.acquire("res:d", timeout_s=timeout)
    assert time.monotonic() - started >= timeout  # it kept trying until its timeout
    message = str(caught.value)
    assert "1 of 3 masters granted (need 2)" in message
    assert own_redis_masters[0].url.rsplit("/", 1)[0].removeprefix("redis://") in message
    # The surviving master's key was undone, not left to block the next holder.
    assert raw(own_redis_masters[2].url).get("res:d") is None


def test_hung_master_does_not_stall_acquisition(
    redis_urls: list[str], black_hole: str, make_redlock: MakeRedlock
) -> None:
    redlock = make_redlock([redis_urls[0], black_hole, redis_urls[1]])
    first = redlock.acquire("res:e1", timeout_s=5)  # every master new: connecting may be slow
    assert redlock.release(first) is True
    again = redlock.acquire("res:e2", timeout_s=0)  # the hung one known-failing: one attempt
    assert redlock.release(again) is True


def test_only_the_owner_releases(redlock: Redlock, redis_urls: list[str]) -> None:
    grant = redlock.acquire("res:f")
    forged = dataclasses.replace(grant, token="0" * 32)
    assert redlock.release(forged) is False
    assert all(raw(url).get("res:f") == grant.token.encode() for url in redis_urls)
    assert redlock.release(grant) is True
    assert redlock.release(grant) is False  # already released
    assert all(raw(url).get("res:f") is None for url in redis_urls)


def test_expired_holder_cannot_release_the_next_holders_lock(
    make_redlock: MakeRedlock, redis_urls: list[str]
) -> None:
    redlock = make_redlock(redis_urls, ttl_s=0.3)
    first = redlock.acquire("res:g")
    # waits out the first TTL; held long enough that no pause of this test outlasts it
    second = redlock.acquire("res:g", ttl_s=30, timeout_s=5)
    assert second.fence > first.fence
    assert redlock.release(first) is False
    assert all(raw(url).get("res:g") == second.token.encode() for url in redis_urls)


def test_extension_renews_and_is_capped_by_count(
    make_redlock: MakeRedlock, redis_urls: list[str]
) -> None:
    # TTLs far apart and far longer than any pause of this test, so no check races them
    redlock = make_redlock(redis_urls, ttl_s=20.0, max_extensions=2)
    grant = redlock.acquire("res:h")
    once = redlock.extend(grant, ttl_s=30.0)
    assert once.extensions == 1
    assert once.expires_at > grant.expires_at
    assert (once.fence, once.token, once.acquired_at) == (
        grant.fence,
        grant.token,
        grant.acquired_at,
    )
    assert all(20_000 < raw(url).pttl("res:h") <= 30_000 for url in redis_urls)
    twice = redlock.extend(once)
    with pytest.raises(LockLost, match="extended 2 times, the cap"):
        redlock.extend(twice)
    assert redlock.release(twice) is True


def test_extension_is_capped_by_total_hold_time(
    make_redlock: MakeRedlock, redis_urls: list[str]
) -> None:
    redlock = make_redlock(redis_urls, ttl_s=10.0, max_hold_s=30.0)
    grant = redlock.acquire("res:i")
    longer = redlock.extend(grant, ttl_s=12.0)  # held for at most 12 s more: within the cap
    with pytest.raises(LockLost, match=r"max_hold_s=30s"):
        redlock.extend(longer, ttl_s=31.0)
    assert redlock.release(longer) is True


def test_extension_fails_once_another_holder_took_over(
    make_redlock: MakeRedlock, redis_urls: list[str]
) -> None:
    redlock = make_redlock(redis_urls, ttl_s=0.3)
    first = redlock.acquire("res:j")
    second = redlock.acquire("res:j", ttl_s=30, timeout_s=5)  # outlives any pause here
    stale = dataclasses.replace(first, expires_at=time.monotonic() + 10)  # a skewed view
    with pytest.raises(LockLost, match=r"still ours on 0 of 3 masters"):
        redlock.extend(stale)
    with pytest.raises(LockLost, match="expired before extension"):
        redlock.extend(first)
    assert all(raw(url).get("res:j") == second.token.encode() for url in redis_urls)


def test_hold_releases_on_exit_and_on_error(redlock: Redlock, redis_urls: list[str]) -> None:
    with redlock.hold("res:k") as grant:
        assert isinstance(grant, LockGrant)
        assert raw(redis_urls[0]).get("res:k") == grant.token.encode()
    assert raw(redis_urls[0]).get("res:k") is None
    with pytest.raises(RuntimeError, match="boom"), redlock.hold("res:k"):
        raise RuntimeError("boom")
    assert all(raw(url).get("res:k") is None for url in redis_urls)


def test_fences_strictly_increase_across_holders(redlock: Redlock) -> None:
    fences = []
    for _ in range(20):
        grant = redlock.acquire("res:l", timeout_s=0)
        fences.append(grant.fence)
        redlock.release(grant)
    assert fences == sorted(set(fences))


def test_fence_increases_across_a_minority_restart(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    redlock = make_redlock(own_redis_masters)
    before = redlock.acquire("res:m")
    redlock.release(before)
    own_redis_masters[1].restart()  # comes back empty: counter and lock keys lost
    assert raw(own_redis_masters[1].url).get(fence_key("res:m")) is None
    own_redis_masters[0].stop()  # the quorum now must include the restarted master
    after = redlock.acquire("res:m", timeout_s=5)
    assert after.fence > before.fence


def test_quorum_write_back_lifts_lagging_masters(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    # Masters that diverged (say, one saw grants while the others were partitioned):
    # only master 0 knows fence 10**15; a quorum of {1, 2} alone would issue ~6.
    counters = [10**15, 5, 5]
    for server, value in zip(own_redis_masters, counters, strict=True):
        raw(server.url).set(fence_key("res:n"), value)
    redlock = make_redlock(own_redis_masters)
    first = redlock.acquire("res:n")
    assert first.fence == 10**15 + 1
    redlock.release(first)
    assert all(
        int(raw(s.url).get(fence_key("res:n")) or 0) >= first.fence for s in own_redis_masters
    )
    own_redis_masters[0].stop()
    second = redlock.acquire("res:n", timeout_s=5)
    assert second.fence > first.fence


def test_fence_counter_lost_everywhere_restarts_from_the_clock(
    redlock: Redlock, redis_urls: list[str]
) -> None:
    first = redlock.acquire("res:o")
    redlock.release(first)
    for url in redis_urls:
        raw(url).delete(fence_key("res:o"))  # e.g. every master restarted without persistence
    second = redlock.acquire("res:o")
    assert second.fence > first.fence


@pytest.mark.parametrize(
    "resource",
    ["", "has space", "tab\there", "x" * 257, "remedy:fence:res", "remedy:wake:res", "ünicode"],
)
def test_bad_resources_are_refused(redlock: Redlock, resource: str) -> None:
    with pytest.raises(ValueError, match="resource"):
        redlock.acquire(resource)


@pytest.mark.parametrize("ttl_s", [0.0, -1.0, 0.1])
def test_ttl_must_dwarf_the_node_timeout(redlock: Redlock, ttl_s: float) -> None:
    with pytest.raises(ValueError, match="too short"):
        redlock.acquire("res:p", ttl_s=ttl_s)


@pytest.mark.parametrize(
    ("repository", "task_id", "expected"),
    [
        ("5dlabs/cto", 12, "remedy:lock:task:5dlabs/cto:12"),
        ("a/b.c-d_e", 1, "remedy:lock:task:a/b.c-d_e:1"),
    ],
)
def test_task_lock_key(repository: str, task_id: int, expected: str) -> None:
    assert task_lock_key(repository, task_id) == expected


@pytest.mark.parametrize(
    ("repository", "task_id"),
    [
        ("no-slash", 1),
        ("a/b c", 1),
        ("a/..", 1),
        ("a/b", 0),
        ("a/b", -3),
        ("a/b", True),
        ("a/b", 10**9),
    ],
)
def test_task_lock_key_refuses_bad_input(repository: str, task_id: int) -> None:
    with pytest.raises(ValueError):
        task_lock_key(repository, task_id)
