"""GitHub connection settings, read from the environment (remedy-config Secret/ConfigMap).

``GITHUB_TOKEN`` is required and is registered with :func:`remedy.logs.register_secret`
as soon as it is read, so no log line can carry it; the settings' ``repr`` hides it
too. Everything else has a default suited to a function answering within
milliseconds: a 5 s request timeout (PyGithub takes whole seconds), three attempts,
and a breaker that opens after five consecutive failures for 30 s.

=========================================  =========================================
``GITHUB_API_URL``                          API base, default ``https://api.github.com``
                                            (GitHub Enterprise: ``https://host/api/v3``)
``GITHUB_TOKEN``                            installation or personal token (required)
``REMEDY_GITHUB_TIMEOUT_SECONDS``           per request, connect and read (default 5)
``REMEDY_GITHUB_BREAKER_FAILURES``          failures that open the breaker (default 5)
``REMEDY_GITHUB_BREAKER_COOLDOWN_SECONDS``  open time before a probe (default 30)
=========================================  =========================================
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeVar
from urllib.parse import urlsplit

from remedy import logs
from remedy.adapters.github.breaker import BreakerSettings
from remedy.adapters.github.transport import RetryPolicy
from remedy.config import ConfigError

N = TypeVar("N", int, float)

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GitHubSettings:
    token: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    timeout_s: int = 5
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerSettings = field(default_factory=BreakerSettings)

    def __post_init__(self) -> None:
        if not self.token or self.token != self.token.strip():
            raise ConfigError("GITHUB_TOKEN must be a non-empty token without surrounding spaces")
        object.__setattr__(self, "api_url", validate_api_url(self.api_url))
        if self.timeout_s < 1:
            raise ConfigError("the GitHub request timeout must be at least 1 second")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GitHubSettings:
        source = os.environ if env is None else env
        token = source.get("GITHUB_TOKEN", "").strip()
        if not token:
            raise ConfigError("GITHUB_TOKEN is not set: remedy needs it to update PR labels")
        logs.register_secret(token)
        try:
            breaker = BreakerSettings(
                failures=_int(source, "REMEDY_GITHUB_BREAKER_FAILURES", 5),
                cooldown_s=_float(source, "REMEDY_GITHUB_BREAKER_COOLDOWN_SECONDS", 30.0),
            )
        except ValueError as exc:
            raise ConfigError(f"REMEDY_GITHUB_BREAKER_*: {exc}") from exc
        return cls(
            token=token,
            api_url=source.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
            timeout_s=_int(source, "REMEDY_GITHUB_TIMEOUT_SECONDS", 5),
            breaker=breaker,
        )


def validate_api_url(url: str) -> str:
    """An http(s) base URL without credentials, query or fragment; trailing ``/`` removed."""
    if not _plain_http_url(url):
        raise ConfigError(
            f"GITHUB_API_URL {url[:200]!r} must be an http(s) URL such as "
            f"{DEFAULT_API_URL} or https://github.example.com/api/v3 (no credentials)"
        )
    return url.rstrip("/")


def _plain_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and not (parts.query or parts.fragment or parts.username or parts.password)
    )


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return _parsed(env, name, default, int, what="a whole number")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return _parsed(env, name, default, float, what="a number")


def _parsed(
    env: Mapping[str, str], name: str, default: N, parse: Callable[[str], N], *, what: str
) -> N:
    """``name``'s value as ``parse`` reads it; ``default`` when unset or blank."""
    raw = env.get(name, "").strip()
    try:
        return parse(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name}={raw[:40]!r} is not {what}") from None
