"""Fixtures for ``remedy mcp``'s tests: remedy over real HTTP with task 12 mid-review.

- ``platform``: every function over HTTP, the local broker routing by knative/'s
  Triggers, the agent simulator acknowledging through control-api, and Rex's push of
  task 12 gone through the chain (tests/mcp/platform.py);
- ``anyio_backend``: the tests drive the SDK's own client, which is async, on asyncio.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from kubernetes import client

from tests.chain.conftest import api, custom, github, kube, platform_env
from tests.mcp import platform as platforms

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
    def set_env(values: Mapping[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    started = platforms.start(api=api, github=github, set_env=set_env)
    yield started
    started.stop()
