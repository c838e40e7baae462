"""control-api on the emulated platform: the chain's fixtures, tokens, a recording broker.

Reuses the chain's emulators (Kubernetes with remedy's namespaces and CRDs, GitHub with
the task's repository, real Redis) and adds what control-api reads from its
environment: the agents' and an operator's tokens (REMEDY_API_TOKENS) and K_SINK,
pointed at a recording stand-in for the broker ingress.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client
from werkzeug.test import Client

from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.http_server import ServedApp, serve_in_thread
from tests.chain.conftest import api, apps, custom, github, kube, platform_env
from tests.control import support
from tests.intake.conftest import RecordingSink, function_app, sink

__all__ = ["api", "apps", "custom", "github", "kube", "platform_env", "sink"]


@pytest.fixture
def control_env(
    platform_env: dict[str, str],
    sink: tuple[RecordingSink, ServedApp],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    env = {
        **platform_env,
        "K_SINK": sink[1].url,
        "REMEDY_API_TOKENS": ",".join(f"{p}={t}" for p, t in support.TOKENS.items()),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def recorder(sink: tuple[RecordingSink, ServedApp]) -> RecordingSink:
    return sink[0]


@pytest.fixture
def control(control_env: dict[str, str]) -> Client:
    """control-api exactly as functions-framework serves it, through its test client."""
    return function_app("control-api").test_client()


@pytest.fixture
def served_control(control_env: dict[str, str]) -> Iterator[ServedApp]:
    """control-api over real HTTP (for streams and for the agent simulator)."""
    served = serve_in_thread(function_app("control-api"))
    yield served
    served.stop()


@pytest.fixture
def chain(apps: dict[str, Any], control_env: dict[str, str]) -> dict[str, Any]:
    """The chain's functions, created once control-api's environment is in place too."""
    return apps


@pytest.fixture
def cancelling(
    chain: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator
) -> support.Cancelled:
    """Task 12 after Rex's push: Cleo's and Tess's running runs asked to stop, Rex's kept."""
    support.seed_task(custom, github, support.RUNS)
    done = support.remediate(chain)
    assert done.outcomes() == {
        "rex-12": "kept",
        "cleo-12": "cancel-requested",
        "tess-12": "cancel-requested",
    }
    return done
