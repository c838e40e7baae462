"""What a Redis outage costs a caller: stopped and hung masters, a lost quorum, no ledger.

The lock and ledger tests check *what* happens when masters fail (a failure counted as
"no vote", one attempt still granting, the error naming each master once); how *long*
it takes depends on the machine's load, so it is measured here instead:

- Redlock acquire+release over three masters with one stopped, then one hung (a peer
  that accepts TCP and never answers): the fan-out gives up on a failing master at its
  deadline (``call_timeout_s``), so a pair costs at most two deadlines;
- acquire with two of three stopped and ``timeout_s=0.3``: it retries until that
  timeout, and the last attempt ends within one more deadline;
- the idempotency ledger with every master stopped, then with its master hung: each
  master is tried once, so LedgerUnavailable comes within one timeout per master.

Targets are those design bounds plus 20 ms of scheduling slack (the benchmark runs on
whatever the machine is doing).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from remedy.adapters.redis.fanout import NodeSet
from remedy.adapters.redis.ledger import Ledger, LedgerUnavailable
from remedy.adapters.redis.ledger_keys import LedgerKey, fingerprint
from remedy.adapters.redis.nodes import connect
from remedy.adapters.redis.redlock import LockUnavailable, Redlock
from remedy.local.redis_servers import RedisServer, start_many
from tests.benchmarks.load import summary_ms, target

SLACK_S = 0.02
STOPPED_PAIRS, HUNG_PAIRS, QUORUM_LOST, LEDGER_CALLS = 200, 20, 10, 50
ACQUIRE_TIMEOUT_S = 0.3
LEDGER_TIMEOUT_S = 0.05


@contextmanager
def _black_hole() -> Iterator[str]:
    """A redis:// URL whose peer accepts connections and never replies."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


def _timed(count: int, call: Callable[[int], None]) -> list[float]:
    samples = []
    for number in range(count):
        began = time.perf_counter()
        call(number)
        samples.append(time.perf_counter() - began)
    return samples


def _redlock(urls: list[str]) -> Redlock:
    return Redlock(NodeSet(connect(urls)))


def _pairs(redlock: Redlock, count: int) -> list[float]:
    def pair(number: int) -> None:
        grant = redlock.acquire(f"bench:outage:{number}", timeout_s=0)
        if not redlock.release(grant):
            raise RuntimeError("release failed with a quorum up")

    pair(-1)  # the failing master's first failure (and the others' connections) aside
    return _timed(count, pair)


def _refused(redlock: Redlock, count: int) -> list[float]:
    def refused(number: int) -> None:
        try:
            redlock.acquire(f"bench:quorum:{number}", timeout_s=ACQUIRE_TIMEOUT_S)
        except LockUnavailable:
            return
        raise RuntimeError("a lock was granted by one master of three")

    return _timed(count, refused)


def _unavailable(ledger: Ledger, count: int) -> list[float]:
    def unavailable(number: int) -> None:
        key = LedgerKey.for_event("/bench/outages", f"d-{number}")
        try:
            ledger.begin(key, fingerprint=fingerprint({"n": number}))
        except LedgerUnavailable:
            return
        raise RuntimeError("the ledger answered with every master down")

    return _timed(count, unavailable)


def _within(samples: list[float], bound_s: float) -> dict[str, Any]:
    summary = summary_ms(samples)
    return {**summary, "max_within": target(summary["max_ms"], round(bound_s * 1000, 3))}


def _locks(servers: list[RedisServer], hole: str) -> dict[str, Any]:
    urls = [server.url for server in servers]
    up = _redlock(urls)
    deadline = up.nodes.call_timeout_s
    up.release(up.acquire("bench:warm", timeout_s=5))
    hung = _redlock([urls[0], hole, urls[1]])
    hung_pairs = _pairs(hung, HUNG_PAIRS)
    servers[2].stop()
    stopped_pairs = _pairs(up, STOPPED_PAIRS)
    servers[1].stop()
    refused = _refused(up, QUORUM_LOST)
    return {
        "fan_out_deadline_ms": round(deadline * 1000, 3),
        "one_master_stopped": _within(stopped_pairs, 2 * deadline + SLACK_S),
        "one_master_hung": _within(hung_pairs, 2 * deadline + SLACK_S),
        "quorum_lost": {
            "acquire_timeout_ms": ACQUIRE_TIMEOUT_S * 1000,
            **_within(refused, ACQUIRE_TIMEOUT_S + deadline + SLACK_S),
        },
    }


def _ledger(servers: list[RedisServer], hole: str) -> dict[str, Any]:
    urls = [server.url for server in servers]
    hung = Ledger.from_urls([hole, *urls[1:]], timeout_s=LEDGER_TIMEOUT_S)
    stopped = Ledger.from_urls(urls, timeout_s=LEDGER_TIMEOUT_S)
    for server in servers:
        server.stop()
    per_master = len(urls) * LEDGER_TIMEOUT_S
    return {
        "timeout_ms": LEDGER_TIMEOUT_S * 1000,
        "every_master_stopped": _within(_unavailable(stopped, LEDGER_CALLS), per_master + SLACK_S),
        "master_hung_others_stopped": _within(
            _unavailable(hung, LEDGER_CALLS), per_master + SLACK_S
        ),
    }


def run() -> dict[str, Any]:
    results: dict[str, Any] = {}
    with _black_hole() as hole:
        for name, measure in (("redlock", _locks), ("ledger", _ledger)):
            servers = start_many(3)
            try:
                results[name] = measure(servers, hole)
            finally:
                for server in servers:
                    server.stop()
    return results
