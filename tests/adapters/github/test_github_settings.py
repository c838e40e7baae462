"""GitHub settings from the environment, and a client built from them.

Behaviours covered:
- defaults: api.github.com, 5 s timeout, breaker 5 failures / 30 s;
- every variable read and validated; a missing or blank GITHUB_TOKEN, a malformed
  GITHUB_API_URL (scheme, credentials, query) or a non-number is a ``ConfigError``
  naming the variable;
- the token never shows: not in the settings' repr, and masked in remedy's log lines
  once read;
- ``PullRequestsClient.from_env`` talks to the configured API (the emulator).
"""

from __future__ import annotations

import logging

import pytest

from remedy import logs
from remedy.adapters.github.prs import PullRequestsClient
from remedy.adapters.github.settings import GitHubSettings
from remedy.config import ConfigError
from remedy.local.emulators.github.server import GitHubEmulator

from .conftest import REPO, OpenPull


def test_defaults() -> None:
    settings = GitHubSettings.from_env({"GITHUB_TOKEN": "ghp_defaults"})
    assert settings.api_url == "https://api.github.com"
    assert settings.timeout_s == 5
    assert (settings.breaker.failures, settings.breaker.cooldown_s) == (5, 30.0)


def test_every_variable_is_read() -> None:
    settings = GitHubSettings.from_env(
        {
            "GITHUB_TOKEN": " ghp_spaced ",
            "GITHUB_API_URL": "https://ghe.example.com/api/v3/",
            "REMEDY_GITHUB_TIMEOUT_SECONDS": "2",
            "REMEDY_GITHUB_BREAKER_FAILURES": "7",
            "REMEDY_GITHUB_BREAKER_COOLDOWN_SECONDS": "12.5",
        }
    )
    assert settings.token == "ghp_spaced"
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert settings.timeout_s == 2
    assert (settings.breaker.failures, settings.breaker.cooldown_s) == (7, 12.5)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "GITHUB_TOKEN"),
        ({"GITHUB_TOKEN": "  "}, "GITHUB_TOKEN"),
        ({"GITHUB_API_URL": "ftp://github.example.com"}, "GITHUB_API_URL"),
        ({"GITHUB_API_URL": "api.github.com"}, "GITHUB_API_URL"),
        ({"GITHUB_API_URL": "https://user:pw@github.example.com"}, "GITHUB_API_URL"),
        ({"GITHUB_API_URL": "https://github.example.com/api?x=1"}, "GITHUB_API_URL"),
        ({"GITHUB_API_URL": "http://[::1"}, "GITHUB_API_URL"),
        ({"REMEDY_GITHUB_TIMEOUT_SECONDS": "fast"}, "REMEDY_GITHUB_TIMEOUT_SECONDS"),
        ({"REMEDY_GITHUB_TIMEOUT_SECONDS": "0"}, "timeout"),
        ({"REMEDY_GITHUB_BREAKER_FAILURES": "0"}, "REMEDY_GITHUB_BREAKER"),
        ({"REMEDY_GITHUB_BREAKER_COOLDOWN_SECONDS": "x"}, "REMEDY_GITHUB_BREAKER_COOLDOWN"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    if "GITHUB_TOKEN" not in env and named != "GITHUB_TOKEN":
        env = {"GITHUB_TOKEN": "ghp_valid_token", **env}
    with pytest.raises(ConfigError, match=named):
        GitHubSettings.from_env(env)


def test_token_never_shows() -> None:
    token = "ghp_secret_for_the_log_test"
    settings = GitHubSettings.from_env({"GITHUB_TOKEN": token})
    assert token not in repr(settings)
    logs.configure()
    remedy_handlers = [h for h in logging.getLogger().handlers if getattr(h, "_remedy", False)]
    assert remedy_handlers
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "using %s", (token,), None)
    for handler in remedy_handlers:
        handler.filter(record)
    assert record.getMessage() == "using ***"


def test_client_from_env_talks_to_the_configured_api(
    emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    number = open_pull("task-7")
    client = PullRequestsClient.from_env(
        {"GITHUB_TOKEN": emulator.token, "GITHUB_API_URL": emulator.url}
    )
    assert client.find_open(REPO, branch="task-7", task_id=7) == number
    assert client.requests_made == 1
