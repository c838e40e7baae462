"""RedisPushLogs: each task's push log as a fenced register over real Redis masters.

Covers: an update reads what the last one wrote, a change of None writes nothing, names
are independent; 40 concurrent callers each taking a distinct push in get distinct
epochs and none is lost; the log survives a minority restart; a write that only a
minority took raises and the next read does not build on it; a holder whose lock was
taken over cannot overwrite a newer log; a retried write of the same version counts
as written (a holder asks masters that did not answer again while its grant holds); a
majority down raises PushLogUnavailable (retry later) and changes nothing; bad names are
refused.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from remedy.adapters.redis.push_log import LOCK_PREFIX, LOG_PREFIX, WRITE, RedisPushLogs
from remedy.adapters.redis.redlock import Redlock
from remedy.domain import push_order
from remedy.domain.push_order import Candidate, PushLog
from remedy.local.redis_servers import RedisServer
from remedy.ports import RetryLater
from tests.locks.conftest import MakeRedlock

T0 = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def take(logs: RedisPushLogs, name: str, after: str, *, before: str = "0" * 39 + "1") -> int:
    """Admit a push of ``after`` into ``name``'s log; its epoch."""
    candidate = Candidate(
        ref="refs/heads/task-1",
        before=before,
        after=after,
        delivery=f"d-{after[:8]}",
        pushed_at=T0,
        pusher="rex",
    )

    def change(log: PushLog) -> tuple[push_order.Admission, PushLog | None]:
        admission = push_order.admit(log, candidate)
        return admission, admission.log

    admission = logs.update(name, change)
    assert admission.record is not None, admission.reason
    return admission.record.epoch


def sha(i: int) -> str:
    return f"{i:040x}"


def test_an_update_sees_the_last_write(redlock: Redlock) -> None:
    logs = RedisPushLogs(redlock)
    assert logs.read("task:a/b#1") == PushLog()
    first = take(logs, "task:a/b#1", sha(1))
    second = take(logs, "task:a/b#1", sha(2))
    assert second > first
    log = logs.read("task:a/b#1")
    assert log.sequence == 2
    assert [p.after for p in log.pushes] == [sha(1), sha(2)]


def test_no_change_writes_nothing_and_names_are_independent(redlock: Redlock) -> None:
    logs = RedisPushLogs(redlock)
    take(logs, "task:a/b#1", sha(1))
    assert logs.update("task:a/b#1", lambda log: (log.sequence, None)) == 1
    assert logs.read("task:a/b#1").sequence == 1
    assert logs.read("task:a/b#2") == PushLog()


def test_concurrent_callers_lose_no_push(redlock: Redlock) -> None:
    logs = RedisPushLogs(redlock, timeout_s=30)
    callers = 40
    start = threading.Barrier(callers)
    epochs: list[int] = []
    guard = threading.Lock()

    def call(i: int) -> None:
        start.wait()
        epoch = take(logs, "task:a/b#7", sha(100 + i), before=sha(900 + i))
        with guard:
            epochs.append(epoch)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(set(epochs)) == callers
    log = logs.read("task:a/b#7")
    assert log.sequence == callers
    assert len(log.pushes) == callers
    assert sorted(epochs) == [p.epoch for p in log.pushes]


def test_the_log_survives_a_minority_restart(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    logs = RedisPushLogs(make_redlock(own_redis_masters))
    before = take(logs, "task:a/b#3", sha(1))
    own_redis_masters[2].restart()  # comes back empty
    own_redis_masters[0].stop()
    assert logs.read("task:a/b#3").sequence == 1
    assert take(logs, "task:a/b#3", sha(2)) > before


def test_a_minority_write_raises_and_is_not_built_on(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    redlock = make_redlock(own_redis_masters)
    logs = RedisPushLogs(redlock)
    take(logs, "task:a/b#4", sha(1))
    grant = redlock.acquire(LOCK_PREFIX + "task:a/b#4")
    # a holder that reached one master only, then lost the others
    redlock.nodes.eval(
        WRITE,
        keys=[LOCK_PREFIX + "task:a/b#4", LOG_PREFIX + "task:a/b#4"],
        args=[grant.token, grant.fence, PushLog(sequence=99).to_json(), 60_000],
        only=[0],
    )
    redlock.release(grant)
    own_redis_masters[0].stop()
    assert logs.read("task:a/b#4").sequence == 1


def test_a_holder_that_lost_its_lock_cannot_overwrite(redlock: Redlock) -> None:
    logs = RedisPushLogs(redlock)
    stale = redlock.acquire(LOCK_PREFIX + "task:a/b#5", ttl_s=0.5)
    redlock.release(stale)  # as if its TTL ran out while it was paused
    take(logs, "task:a/b#5", sha(1))
    replies = redlock.nodes.eval(
        WRITE,
        keys=[LOCK_PREFIX + "task:a/b#5", LOG_PREFIX + "task:a/b#5"],
        args=[stale.token, stale.fence, PushLog(sequence=77).to_json(), 60_000],
    )
    assert set(replies.values()) == {0}
    newer = redlock.acquire(LOCK_PREFIX + "task:a/b#5")
    replies = redlock.nodes.eval(
        WRITE,
        keys=[LOCK_PREFIX + "task:a/b#5", LOG_PREFIX + "task:a/b#5"],
        args=[newer.token, stale.fence, PushLog(sequence=77).to_json(), 60_000],
    )
    redlock.release(newer)
    assert set(replies.values()) == {-1}, "an older version never replaces a newer one"
    assert logs.read("task:a/b#5").sequence == 1


def test_a_retried_write_of_the_same_version_counts_as_written(redlock: Redlock) -> None:
    """A holder asks again the masters whose answer it lost: one that took the write the
    first time says so (2), never "newer" (-1), so the retry reaches its majority."""
    keys = [LOCK_PREFIX + "task:a/b#8", LOG_PREFIX + "task:a/b#8"]
    grant = redlock.acquire(keys[0])
    args: list[str | int] = [grant.token, grant.fence, PushLog(sequence=1).to_json(), 60_000]
    try:
        assert set(redlock.nodes.eval(WRITE, keys=keys, args=args).values()) == {1}
        assert set(redlock.nodes.eval(WRITE, keys=keys, args=args).values()) == {2}
    finally:
        redlock.release(grant)
    assert RedisPushLogs(redlock).read("task:a/b#8").sequence == 1


def test_a_majority_down_is_retry_later_and_changes_nothing(
    own_redis_masters: list[RedisServer], make_redlock: MakeRedlock
) -> None:
    logs = RedisPushLogs(make_redlock(own_redis_masters), timeout_s=0.2)
    take(logs, "task:a/b#6", sha(1))
    own_redis_masters[0].stop()
    own_redis_masters[1].stop()
    with pytest.raises(RetryLater, match="busy or unreachable"):
        take(logs, "task:a/b#6", sha(2))
    with pytest.raises(RetryLater, match="only 1 of 3 Redis masters answered"):
        logs.read("task:a/b#6")
    own_redis_masters[0].start()
    assert logs.read("task:a/b#6").sequence == 1


@pytest.mark.parametrize("name", ["", "with space", "x" * 300, "line\nbreak"])
def test_bad_names_are_refused(redlock: Redlock, name: str) -> None:
    with pytest.raises(ValueError):
        RedisPushLogs(redlock).update(name, lambda log: (None, None))
