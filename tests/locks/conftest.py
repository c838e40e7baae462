"""Fixtures for the lock tests: Redlock and epoch counters over real redis-server masters.

Tests that stop or restart masters use ``own_redis_masters``; the rest share the
session pool (flushed per test). A hung master is the root conftest's ``black_hole``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
