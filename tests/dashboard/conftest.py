"""Fixtures for the dashboard's tests: the platform over HTTP, a headless Chromium, logs.

- ``platform``: every function served over HTTP with the local broker routing between
  them and the agent simulator acknowledging (tests/support/platform.py);
- ``control_only``: control-api alone over HTTP, its broker a recording stand-in, for
  pages that need only states saved directly (tests/dashboard/states.py);
- ``page``: Debian's Chromium, headless, fresh profile (tests/dashboard/browser.py); it
  fails, never skips, when the browser is missing;
- ``log_lines``: every log record any logger of this process wrote during the test.

The screenshots saved under tests/dashboard/artifacts/ are listed at the end of the run.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from remedy.local.http_server import ServedApp
from tests.chain.conftest import api, custom, github, kube, platform_env
from tests.dashboard import browser
from tests.intake.conftest import RecordingSink, sink
from tests.support import platform as platforms

__all__ = ["api", "custom", "github", "kube", "platform_env", "sink"]


@pytest.fixture
def platform(
    platform_env: dict[str, str], api: client.ApiClient, monkeypatch: pytest.MonkeyPatch
) -> Iterator[platforms.Platform]:
    started = platforms.start(api=api, env=platforms.environment(monkeypatch))
    yield started
    started.stop()


@pytest.fixture
def control_only(
    platform_env: dict[str, str],
    api: client.ApiClient,
    sink: tuple[RecordingSink, ServedApp],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[platforms.Platform]:
    env = platforms.environment(monkeypatch)
    started = platforms.start(api=api, env=env, names=(), sink_url=sink[1].url, agents=False)
    yield started
    started.stop()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[browser.Page]:
    driver = browser.start(tmp_path / "chromium-profile", tmp_path / "chromedriver.log")
    try:
        yield browser.Page(driver)
    finally:
        driver.quit()


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name}: {record.getMessage()}")


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Every record logged in this process during the test, unredacted, as written."""
    handler = _Lines()
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler.lines
    root.removeHandler(handler)
    root.setLevel(previous)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if browser.SAVED:
        terminalreporter.section("dashboard screenshots")
        for path in dict.fromkeys(browser.SAVED):
            terminalreporter.write_line(str(path))
