"""Fixtures every test folder may use: real redis-server processes on free ports.

Redis is never faked. One session-wide pool of three independent masters serves the
tests; each test gets them flushed. Tests that stop or restart a server get their own.
A "black hole" peer (accepts TCP, never answers) stands in for a hung master: it is not
a fake Redis, it is how a frozen host looks.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from remedy.local.redis_servers import RedisServer, start_many

# The reference data (real payloads, the original system's manifests) sits beside the
# clone in ../shared; REMEDY_REFERENCE_DIR points elsewhere when it does not.
REFERENCE = Path(
    os.environ.get("REMEDY_REFERENCE_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "reference"
)


@pytest.fixture(scope="session")
def redis_pool() -> Iterator[list[RedisServer]]:
    servers = start_many(3)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def redis_masters(redis_pool: list[RedisServer]) -> list[RedisServer]:
    """Three running, empty, independent Redis masters (shared across tests)."""
    for server in redis_pool:
        if not server.running:
            server.start()
        redis.Redis.from_url(server.url).flushall()
    return redis_pool


@pytest.fixture
def redis_urls(redis_masters: list[RedisServer]) -> list[str]:
    return [server.url for server in redis_masters]


@pytest.fixture
def own_redis_masters() -> Iterator[list[RedisServer]]:
    """Three masters of this test's own, for tests that take servers down."""
    servers = start_many(3)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A redis:// URL whose peer accepts connections and never replies."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"redis://127.0.0.1:{listener.getsockname()[1]}/0"


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    if not REFERENCE.is_dir():
        pytest.fail(f"reference data not found at {REFERENCE}: clone remedy beside ../shared")
    return REFERENCE
