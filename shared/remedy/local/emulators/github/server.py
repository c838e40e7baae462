"""``GitHubEmulator``: the model and its HTTP server, started in-process or standalone.

In a test::

    with GitHubEmulator().start() as github:
        gh = github.client()                      # PyGithub, pointed at github.url
        repo = gh.get_user().create_repo("demo")  # seeded through the real API
        github.model.pulls.get(...)               # or read/seeded directly
        assert github.stats["POST /repos/{owner}/{repo}/issues/{number}/labels"] == 1

``client()`` disables PyGithub's retries and its default request pacing (0.25 s
between requests, 1 s between writes) so tests see GitHub's status codes at once;
pass ``retry=`` to exercise a client's own rate-limit handling.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Self

from github import Auth, Github

from remedy.local import http_server
from remedy.local.emulators.github.api import GitHubApi
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.model import DEFAULT_LOGIN, GitHubModel
from remedy.local.emulators.github.ratelimit import PrimaryLimit, SecondaryLimit
from remedy.local.lifecycle import HttpService

if TYPE_CHECKING:
    from urllib3.util.retry import Retry


class GitHubEmulator(HttpService):
    what = "the GitHub emulator"

    def __init__(
        self,
        *,
        token: str | None = None,
        login: str = DEFAULT_LOGIN,
        admin_token: str | None = None,
        rate_limit: int = 5000,
        rate_window_seconds: float = 3600,
    ) -> None:
        self.token = token or f"ghp_{secrets.token_hex(18)}"
        self.admin_token = admin_token or f"emu_{secrets.token_hex(18)}"
        self.backend = Backend(
            model=GitHubModel(login=login),
            primary=PrimaryLimit(limit=rate_limit, window_seconds=rate_window_seconds),
        )
        self.backend.model.add_token(self.token, login)
        self.api = GitHubApi(self.backend, admin_token=self.admin_token)

    # -- lifecycle ------------------------------------------------------------------

    def start(self, *, host: str = "127.0.0.1", port: int = 0) -> Self:
        """Serve from a background thread on ``port`` (0: a free one)."""
        self._check_stopped()
        self._served = http_server.serve_in_thread(self.api, host=host, port=port)
        return self

    def bind(self, *, host: str = "127.0.0.1", port: int = 0) -> http_server.ServedApp:
        """Bind without serving, for the foreground ``remedy emulate github`` mode."""
        self._check_stopped()
        self._served = http_server.make(self.api, host=host, port=port)
        return self._served

    # -- what tests and benchmarks use ---------------------------------------------

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def model(self) -> GitHubModel:
        return self.backend.model

    @property
    def primary(self) -> PrimaryLimit:
        return self.backend.primary

    @property
    def secondary(self) -> SecondaryLimit:
        return self.backend.secondary

    @property
    def stats(self) -> dict[str, int]:
        """Requests so far per ``"METHOD /template"`` endpoint."""
        return self.backend.stats.requests()

    def reset_stats(self) -> None:
        self.backend.stats.reset()

    @property
    def timeline(self) -> list[str]:
        return self.backend.model.timeline

    def reset(self) -> None:
        """An empty GitHub again (users and tokens stay)."""
        self.backend.reset()

    def add_user(self, login: str, *, token: str | None = None) -> str:
        """Create ``login`` with a token of its own; returns the token."""
        token = token or f"ghp_{secrets.token_hex(18)}"
        self.backend.model.add_token(token, login)
        return token

    def client(
        self, *, token: str | None = None, retry: int | Retry | None = None, per_page: int = 30
    ) -> Github:
        """A PyGithub client for this emulator, acting as ``token``'s user."""
        return Github(
            base_url=self.url,
            auth=Auth.Token(token or self.token),
            retry=retry,
            per_page=per_page,
            seconds_between_requests=None,
            seconds_between_writes=None,
        )
