"""Fixtures for the GitHub adapter tests: the real GitHub emulator over HTTP, a fake clock.

- ``emulator``: a :class:`GitHubEmulator` on a free port whose API also
  records each request's raw target, so tests can see how a label name went on the
  wire (the emulator itself decodes ``%2F`` and raw ``/`` alike);
- ``repo``: ``remedy-bot/demo``, seeded in the model; ``open_pull`` opens a PR in it;
- ``clock``: a :class:`FakeClock`; the adapter sleeps on it (recorded, no real wait);
- ``breaker``: a fresh breaker on that clock (3 failures, 30 s cooldown), so no state
  leaks between tests through the process-wide per-URL breakers;
- ``make_client``/``client``: :class:`PullRequestsClient` against the emulator.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from remedy.adapters.github.breaker import BreakerSettings, CircuitBreaker
from remedy.adapters.github.prs import PullRequestsClient
from remedy.adapters.github.settings import GitHubSettings
from remedy.adapters.github.transport import RetryPolicy
from remedy.local.emulators.github import rest_issues, rest_pulls, rest_repos
from remedy.local.emulators.github.api import GitHubApi
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.records import RepoRef
from remedy.local.emulators.github.routing import Router
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.github.wire import Handler

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

OWNER = "remedy-bot"
REPO = f"{OWNER}/demo"
DEMO = RepoRef(OWNER, "demo")
ISSUES = "/repos/{owner}/{repo}/issues"


class RecordingApi(GitHubApi):
    def __init__(self, backend: Backend, *, admin_token: str) -> None:
        super().__init__(backend, admin_token=admin_token)
        routes: list[tuple[str, str, Handler]] = [
            *rest_repos.ROUTES,
            *rest_issues.ROUTES,
            *rest_pulls.ROUTES,
        ]
        self.router = Router(routes)
        self.raw_targets: list[str] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.raw_targets.append(str(environ.get("REQUEST_URI") or environ.get("RAW_URI")))
        return super().__call__(environ, start_response)


class FakeClock:
    """Monotonic and wall time that only move when slept on or advanced."""

    def __init__(self) -> None:
        self.mono = 1_000.0
        self.wall = time.time()
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.mono

    def time(self) -> float:
        return self.wall

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.mono += seconds
        self.wall += seconds


@pytest.fixture
def emulator() -> Iterator[GitHubEmulator]:
    github = GitHubEmulator()
    github.api = RecordingApi(github.backend, admin_token=github.admin_token)
    with github.start():
        yield github


@pytest.fixture
def raw_targets(emulator: GitHubEmulator) -> list[str]:
    assert isinstance(emulator.api, RecordingApi)
    return emulator.api.raw_targets


@pytest.fixture
def repo(emulator: GitHubEmulator) -> RepoRef:
    emulator.model.repos.create(DEMO, actor=OWNER)
    return DEMO


OpenPull = Callable[..., int]


@pytest.fixture
def open_pull(emulator: GitHubEmulator, repo: RepoRef) -> OpenPull:
    def open_(head: str, *, labels: Iterable[str] = (), base: str = "main") -> int:
        issue = emulator.model.pulls.create(repo, title=head, head=head, base=base, actor=OWNER)
        if labels:
            emulator.model.labels.add(issue.ref, labels)
        return issue.number

    return open_


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def state(breaker: CircuitBreaker) -> str:
    """The breaker's state, read afresh (mypy would narrow a property across calls)."""
    return breaker.state


@pytest.fixture
def breaker(clock: FakeClock) -> CircuitBreaker:
    return CircuitBreaker(
        name="test", settings=BreakerSettings(failures=3, cooldown_s=30.0), clock=clock
    )


MakeClient = Callable[..., PullRequestsClient]


@pytest.fixture
def make_client(emulator: GitHubEmulator, clock: FakeClock, breaker: CircuitBreaker) -> MakeClient:
    def make(
        *,
        token: str | None = None,
        url: str | None = None,
        timeout_s: int = 5,
        breaker_failures: int | None = None,
        **retry: Any,
    ) -> PullRequestsClient:
        settings = GitHubSettings(
            token=token or emulator.token,
            api_url=url or emulator.url,
            timeout_s=timeout_s,
            retry=RetryPolicy(**retry),
        )
        if breaker_failures is not None:
            own = BreakerSettings(failures=breaker_failures, cooldown_s=30.0)
            return PullRequestsClient(
                settings, breaker=CircuitBreaker(name="own", settings=own, clock=clock), clock=clock
            )
        return PullRequestsClient(settings, breaker=breaker, clock=clock)

    return make


@pytest.fixture
def client(make_client: MakeClient) -> PullRequestsClient:
    return make_client()
