"""REDIS_URLS parsing and the fan-out to masters.

Covers: valid lists (one or several masters, spaces, unix sockets); every kind of bad
entry refused with a message naming it and never showing a password; a server listed
twice (even under another db) refused; a stopped master and a hung master (given up
at the deadline) each count as a failure ("no vote") while the others answer; a call
queued past its deadline is dropped, unless it is an undo that must run late; a master
that restarted (losing its script cache) answers again; quorum arithmetic. How long a
failing master costs is measured by ``make bench`` (bench_outages), not asserted here.
"""

from __future__ import annotations

import concurrent.futures
import re
import threading

import pytest
import redis

from remedy.adapters.redis import fanout
from remedy.adapters.redis.fanout import LuaScript, NodeFailure, NodeSet
from remedy.adapters.redis.nodes import connect, parse_redis_urls, redact_url
from remedy.local.redis_servers import RedisServer
from tests.support.waiting import eventually

ECHO = LuaScript.of("return ARGV[1]")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("redis://127.0.0.1:6379/0", ["redis://127.0.0.1:6379/0"]),
        (
            " redis://a:1/0 , redis://b:2/0,rediss://c:3 ",
            ["redis://a:1/0", "redis://b:2/0", "rediss://c:3"],
        ),
        ("unix:///tmp/redis.sock", ["unix:///tmp/redis.sock"]),
        ("redis://:pw@a:1/0", ["redis://:pw@a:1/0"]),
    ],
)
def test_parses_comma_separated_urls(value: str, expected: list[str]) -> None:
    assert parse_redis_urls(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "REDIS_URLS is empty"),
        ("  ", "REDIS_URLS is empty"),
        ("redis://a:1/0,,redis://b:2/0", "entry 2 is empty"),
        ("http://a:1/0", "must start with redis://"),
        ("a:6379", "must start with redis://"),
        ("redis://:1/0", "names no host"),
        ("redis://a:notaport/0", "invalid port"),
        ("redis://a:1/zero", "not a number"),
        ("unix://", "names no socket path"),
        ("redis://a:1/0,redis://A:1/3", "repeats an earlier server"),
        ("redis://a/0,redis://a:6379/0", "repeats an earlier server"),
    ],
)
def test_refuses_bad_urls_with_a_clear_message(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_redis_urls(value)


def test_errors_and_labels_never_show_passwords() -> None:
    with pytest.raises(ValueError) as caught:
        parse_redis_urls("redis://user:s3cret@a:1/x")
    assert "s3cret" not in str(caught.value)
    assert "user:***@a:1" in str(caught.value)
    assert redact_url("redis://:s3cret@h:1/0") == "redis://:***@h:1/0"
    nodes = NodeSet(connect(["redis://:s3cret@127.0.0.1:1/0"]))
    assert "s3cret" not in " ".join(nodes.labels)


@pytest.mark.parametrize(("size", "quorum"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_quorum_is_a_strict_majority(size: int, quorum: int) -> None:
    urls = [f"redis://127.0.0.1:{port}/0" for port in range(1, size + 1)]
    assert NodeSet(connect(urls)).quorum == quorum


def test_fan_out_answers_from_every_master(redis_urls: list[str]) -> None:
    nodes = NodeSet(connect(redis_urls))
    for _ in range(3):  # first call via the pool, later ones multiplexed
        assert nodes.eval(ECHO, keys=[], args=["hi"]) == {0: b"hi", 1: b"hi", 2: b"hi"}
    assert nodes.eval(ECHO, keys=[], args=["x"], only=[2]) == {2: b"x"}


def test_stopped_master_is_a_failure(own_redis_masters: list[RedisServer]) -> None:
    nodes = NodeSet(connect([s.url for s in own_redis_masters]))
    nodes.eval(ECHO, keys=[], args=["warm"])
    own_redis_masters[1].stop()
    for _ in range(2):  # once while believed healthy, once as known-failing
        replies = nodes.eval(ECHO, keys=[], args=["hi"])
        assert replies[0] == replies[2] == b"hi"
        failure = replies[1]
        assert isinstance(failure, NodeFailure)
        assert "ConnectionError" in failure.reason
        assert failure.node == nodes.labels[1]


def test_hung_master_is_abandoned_at_the_deadline(redis_urls: list[str], black_hole: str) -> None:
    nodes = NodeSet(connect([redis_urls[0], black_hole, redis_urls[1]]))
    deadline_ms = f"{nodes.call_timeout_s * 1000:.0f} ms"
    for _ in range(2):
        replies = nodes.eval(ECHO, keys=[], args=["hi"])
        assert replies[0] == replies[2] == b"hi"
        failure = replies[1]
        assert isinstance(failure, NodeFailure)
        # given up by the socket timeout or the fan-out's deadline, never waited out
        assert re.fullmatch(rf"TimeoutError: .*|no answer within {deadline_ms}", failure.reason)


def test_restarted_master_answers_again(own_redis_masters: list[RedisServer]) -> None:
    nodes = NodeSet(connect([s.url for s in own_redis_masters]))
    assert nodes.eval(ECHO, keys=[], args=["a"])[0] == b"a"
    assert nodes.eval(ECHO, keys=[], args=["a"])[0] == b"a"
    own_redis_masters[0].restart()  # same port, empty script cache, stale connections
    replies: list[object] = []

    def answers() -> bool:
        replies.append(nodes.eval(ECHO, keys=[], args=["b"])[0])
        return replies[-1] == b"b"

    eventually(
        answers,
        timeout=5,
        every=0.01,
        what="the restarted master to answer",
        describe=lambda: f"its replies: {replies}",
    )


def test_script_errors_are_failures_not_exceptions(redis_urls: list[str]) -> None:
    nodes = NodeSet(connect(redis_urls))
    broken = LuaScript.of("return redis.call('NOSUCHCOMMAND')")
    for _ in range(2):
        replies = nodes.eval(broken, keys=[], args=[])
        assert all(
            isinstance(r, NodeFailure) and "script error" in r.reason for r in replies.values()
        )
    assert nodes.eval(ECHO, keys=[], args=["ok"])[0] == b"ok"


SET = LuaScript.of("return redis.call('SET', KEYS[1], ARGV[1])")


@pytest.mark.parametrize("run_late", [False, True])
def test_a_call_queued_past_its_deadline_runs_only_when_asked(
    redis_urls: list[str], run_late: bool
) -> None:
    """An acquisition queued behind a busy pool is dropped at its deadline (its caller
    has given up: sent late it would leave a lock nobody releases); an undo asked to
    ``run_late`` still reaches the node once a thread frees up."""
    nodes = NodeSet(connect(redis_urls[:1]), call_timeout_s=0.01)  # unknown: the pool path
    gate = threading.Event()
    busy = [fanout._shared_pool().submit(gate.wait) for _ in range(fanout._POOL_WORKERS)]
    try:
        replies = nodes.eval(SET, keys=["late"], args=["set"], run_late=run_late)
    finally:
        gate.set()
    concurrent.futures.wait(busy)
    assert isinstance(replies[0], NodeFailure)
    assert "no answer within 10 ms" in replies[0].reason
    assert nodes.eval(ECHO, keys=[], args=["after"]) == {0: b"after"}  # drains the queue
    client = redis.Redis.from_url(redis_urls[0])
    if run_late:
        eventually(lambda: client.get("late") == b"set", what="the late undo to land")
    else:
        assert client.get("late") is None
