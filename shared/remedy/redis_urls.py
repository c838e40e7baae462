"""``REDIS_URLS``: parsing, validation and redaction, without the Redis client.

Configuration is read at every function's start, including those that never talk to
Redis (webhook-gateway), so this module imports no client library. The clients
themselves are built in :mod:`remedy.adapters.redis.nodes`; this module sits outside that
package because importing the package loads the client.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

MAX_NODES = 31
_SCHEMES = frozenset({"redis", "rediss", "unix"})


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***``, safe for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    userinfo = f"{parts.username or ''}:***"
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{userinfo}@{host}"))


def parse_redis_urls(value: str) -> list[str]:
    """Split and validate a comma-separated ``REDIS_URLS`` value.

    Raises ``ValueError`` naming the offending entry (password redacted). A server
    listed twice (even with another database number) is refused: Redlock's safety rests
    on the masters being independent, and one server would count its vote twice.
    """
    items = [item.strip() for item in value.split(",")]
    if not value.strip():
        raise ValueError(
            "REDIS_URLS is empty: set it to comma-separated redis://host:port/db URLs "
            "of independent Redis masters (one is enough for development)"
        )
    urls: list[str] = []
    seen: set[tuple[str, int | None]] = set()
    for position, item in enumerate(items, start=1):
        identity = _validate_url(item, position)
        if identity in seen:
            raise ValueError(
                f"REDIS_URLS entry {position} ({redact_url(item)}) repeats an earlier "
                "server; Redlock needs independent masters, list each once"
            )
        seen.add(identity)
        urls.append(item)
    if len(urls) > MAX_NODES:
        raise ValueError(f"REDIS_URLS lists {len(urls)} servers; at most {MAX_NODES} allowed")
    return urls


def _validate_url(item: str, position: int) -> tuple[str, int | None]:
    """Check one entry; return the server's identity (host and port, or socket path)."""
    where = f"REDIS_URLS entry {position}"
    if not item:
        raise ValueError(f"{where} is empty (stray comma?)")
    parts = urlsplit(item)
    if parts.scheme not in _SCHEMES:
        raise ValueError(
            f"{where} ({redact_url(item)}) must start with redis://, rediss:// or unix://"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{where} ({redact_url(item)}) has an invalid port") from None
    if parts.scheme == "unix":
        if not parts.path:
            raise ValueError(f"{where} ({redact_url(item)}) names no socket path")
        return parts.path, None
    if not parts.hostname:
        raise ValueError(f"{where} ({redact_url(item)}) names no host")
    db = parts.path.strip("/") or "0"
    if not db.isdigit():
        raise ValueError(f"{where} ({redact_url(item)}) has database {db!r}, not a number")
    return parts.hostname.lower(), port or 6379
