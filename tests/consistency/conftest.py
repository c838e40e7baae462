"""Fixtures for the consistency test: remedy over real HTTP, task 12 remediated, a browser.

- ``platform``: every function over HTTP, the local broker routing by knative/'s
  Triggers and recording every event, the agent simulator acknowledging through
  control-api (tests/support/platform.py); Rex's own run of task 12 running
  (``rex-12``, which no cancellation of review agents may touch), then Rex's push gone
  through the chain;
- ``page``: Debian's Chromium, headless (tests/dashboard's fixture: it fails, never
  skips, when the browser is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.chain import seed
from tests.chain.conftest import api, custom, github, kube, platform_env
from tests.dashboard.conftest import page
from tests.support import platform as platforms

__all__ = ["api", "custom", "github", "kube", "page", "platform_env"]

REX = "rex-12"


@pytest.fixture
def platform(
    platform_env: dict[str, str],
    api: client.ApiClient,
    github: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[platforms.Platform]:
    started = platforms.start(api=api, env=platforms.environment(monkeypatch))
    try:
        seed.coderun(started.custom, REX, task=platforms.TASK, agent="5DLabs-Rex", phase="Running")
        platforms.remediated(started, github)
        yield started
    finally:
        started.stop()
