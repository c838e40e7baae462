"""The Redis masters remedy talks to: ``REDIS_URLS`` parsing and short-timeout clients.

``REDIS_URLS`` lists comma-separated ``redis://`` URLs of *independent* masters (one is
enough for development). Redlock counts their votes, so this module refuses anything
that would make one server count twice, and builds clients whose connect and read
timeouts are tiny (a lock TTL is seconds; a node costs at most tens of milliseconds)
and that never retry on their own: a failing node must count as "no vote" at once.
The parallel fan-out over these clients lives in :mod:`remedy.adapters.redis.fanout`.
"""

from __future__ import annotations

from collections.abc import Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from remedy.redis_urls import parse_redis_urls, redact_url

__all__ = ["DEFAULT_NODE_TIMEOUT_S", "connect", "connect_urls", "parse_redis_urls", "redact_url"]

DEFAULT_NODE_TIMEOUT_S = 0.05
"""Per-node connect/read timeout for lock traffic: far below any lock TTL (seconds)."""


def connect(
    urls: Sequence[str], *, socket_timeout_s: float = DEFAULT_NODE_TIMEOUT_S
) -> list[redis.Redis]:
    """One client per URL with short timeouts and no client-side retries.

    redis-py retries three times with backoff by default; a lock call must instead
    treat a failing node as "no vote" at once, so retries are switched off here.
    Nothing connects until first use.
    """
    if socket_timeout_s <= 0:
        raise ValueError("socket_timeout_s must be positive")
    return [
        redis.Redis.from_url(
            url,
            socket_timeout=socket_timeout_s,
            socket_connect_timeout=socket_timeout_s,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=0,
        )
        for url in urls
    ]


def connect_urls(
    urls: str | Sequence[str], *, socket_timeout_s: float = DEFAULT_NODE_TIMEOUT_S
) -> list[redis.Redis]:
    """:func:`connect` to ``REDIS_URLS`` given as a comma-separated string or a list."""
    listed = parse_redis_urls(urls if isinstance(urls, str) else ",".join(urls))
    return connect(listed, socket_timeout_s=socket_timeout_s)
