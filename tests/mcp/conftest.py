"""Fixtures for ``remedy mcp``'s tests: remedy over real HTTP with task 12 mid-review.

- ``platform``: every function over HTTP, the local broker routing by knative/'s
  Triggers, the agent simulator acknowledging through control-api, and Rex's push of
  task 12 gone through the chain (tests/support/platform.py);
- ``anyio_backend``: the tests drive the SDK's own client, which is async, on asyncio.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.chain.conftest import api, custom, github, kube, platform_env
from tests.support import platform as platforms

__all__ = ["api", "custom", "github", "kube", "platform_env"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def platform(
    platform_env: dict[str, str],
    api: client.ApiClient,
    github: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[platforms.Platform]:
    started = platforms.start(api=api, env=platforms.environment(monkeypatch))
    try:
        platforms.remediated(started, github)
        yield started
    finally:
        started.stop()
