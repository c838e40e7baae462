"""The one way remedy's GitHub adapters connect: a PyGithub requester in a Transport.

Every adapter that calls GitHub needs the same client settings (token, timeout, user
agent, no PyGithub retries or pacing) wrapped in the same
:class:`~remedy.adapters.github.transport.Transport`, with the breaker shared per API
URL. Building it in one place keeps the adapters from drifting apart on any of those;
:class:`TransportClient` is that construction for an adapter class (from settings or
the environment, counting its requests).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Self

from github import Auth, Github
from github.Consts import DEFAULT_PER_PAGE

from remedy.adapters.github.breaker import CircuitBreaker, Clock, SystemClock, breaker_for
from remedy.adapters.github.settings import GitHubSettings
from remedy.adapters.github.transport import Transport


def transport_for(
    settings: GitHubSettings,
    *,
    breaker: CircuitBreaker | None = None,
    clock: Clock | None = None,
    per_page: int = DEFAULT_PER_PAGE,
) -> Transport:
    """A Transport over a lazy PyGithub client; ``breaker`` defaults to the API URL's."""
    client = Github(
        base_url=settings.api_url,
        auth=Auth.Token(settings.token),
        timeout=settings.timeout_s,
        user_agent="remedy",
        per_page=per_page,
        retry=None,  # retries are the transport's, counted and breaker-aware
        seconds_between_requests=None,  # no pacing: see github_transport
        seconds_between_writes=None,
        lazy=True,
    )
    return Transport(
        requester=client.requester,
        breaker=breaker or breaker_for(settings.api_url, settings.breaker),
        clock=clock or SystemClock(),
        policy=settings.retry,
    )


class TransportClient:
    """An adapter over its own :class:`Transport`; ``PER_PAGE`` is its page size."""

    PER_PAGE = DEFAULT_PER_PAGE

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        breaker: CircuitBreaker | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.settings = settings
        self._transport = transport_for(
            settings, breaker=breaker, clock=clock, per_page=self.PER_PAGE
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        return cls(GitHubSettings.from_env(env))

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, retries included (for tests and benchmarks)."""
        return self._transport.requests_made
