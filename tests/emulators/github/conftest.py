"""Fixtures for the GitHub emulator tests: a running emulator per test and its clients.

- ``github``: a fresh :class:`GitHubEmulator` on a free port (default user
  ``remedy-bot``), stopped after the test;
- ``gh``: PyGithub pointed at it, retries and pacing off;
- ``repo``/``pr``: ``remedy-bot/demo`` and pull request #1 (``feature/x`` -> ``main``),
  both seeded through the REST API with PyGithub;
- ``http``: a ``requests`` session with the default token, for raw status/header checks.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from github import Github
from github.PullRequest import PullRequest
from github.Repository import Repository

from remedy.local.emulators.github.server import GitHubEmulator


class Http:
    """A requests session bound to the emulator's base URL."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"

    def request(self, method: str, path: str, **kwargs: object) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)  # type: ignore[arg-type]

    def get(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: object) -> requests.Response:
        return self.request("POST", path, **kwargs)


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    with GitHubEmulator().start() as emulator:
        yield emulator


@pytest.fixture
def gh(github: GitHubEmulator) -> Github:
    return github.client()


@pytest.fixture
def repo(gh: Github) -> Repository:
    return gh.get_user().create_repo("demo")  # type: ignore[union-attr]


@pytest.fixture
def pr(repo: Repository) -> PullRequest:
    return repo.create_pull(base="main", head="feature/x", title="Task 7", body="implements")


@pytest.fixture
def http(github: GitHubEmulator) -> Iterator[Http]:
    client = Http(github.url, github.token)
    yield client
    client.session.close()
