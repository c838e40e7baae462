"""Fixtures for the lock tests: Redlock and epoch counters over real redis-server masters.

Tests that stop or restart masters use ``own_redis_masters``; the rest share the
session pool (flushed per test). A "black hole" peer (accepts TCP, never answers)
stands in for a hung master: it is not a fake Redis, it is how a frozen host looks.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator, Sequence

import pytest

from remedy.adapters.redis.fanout import NodeSet
from remedy.adapters.redis.nodes import connect
from remedy.adapters.redis.redlock import Redlock
from remedy.local.redis_servers import RedisServer

MakeRedlock = Callable[..., Redlock]


def redlock_over(urls: Sequence[str], **options: float) -> Redlock:
    nodes = NodeSet(connect(urls))
    return Redlock(nodes, **options)  # type: ignore[arg-type]


@pytest.fixture
def make_redlock() -> MakeRedlock:
    """``make_redlock(servers_or_urls, ttl_s=..., ...)``."""

    def make(targets: Sequence[RedisServer | str], **options: float) -> Redlock:
        urls = [t.url if isinstance(t, RedisServer) else t for t in targets]
        return redlock_over(urls, **options)

    return make


@pytest.fixture
def redlock(redis_urls: list[str]) -> Redlock:
    """Three masters, default settings."""
    return redlock_over(redis_urls)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A redis:// URL whose peer accepts connections and never replies."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"
