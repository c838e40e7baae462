"""Fixtures for the observability tests: a recording broker, a collector, dead dependencies.

The functions run as real processes here (see support.py) wherever what is tested is
what a process prints or exports, or what it imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from remedy.local.http_server import ServedApp, serve_in_thread
from tests.intake.conftest import RecordingSink
from tests.observability.support import Listener, OtlpReceiver, otlp_receiver


@pytest.fixture
def sink() -> Iterator[tuple[RecordingSink, ServedApp]]:
    """A broker ingress stand-in that records what it is sent and answers 202."""
    recorder = RecordingSink()
    served = serve_in_thread(recorder)  # type: ignore[arg-type]
    yield recorder, served
    served.stop()


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as started:
        yield started


@pytest.fixture
def listener() -> Iterator[Listener]:
    """One port standing in for every outside system; it must never be called."""
    started = Listener()
    yield started
    started.close()


def kubeconfig_to(path: Path, port: int) -> Path:
    """A kubeconfig naming an API server at 127.0.0.1:``port``."""
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
  - name: dead
    cluster: {{server: "https://127.0.0.1:{port}", insecure-skip-tls-verify: true}}
users:
  - name: dead
    user: {{token: not-a-real-token}}
contexts:
  - name: dead
    context: {{cluster: dead, user: dead}}
current-context: dead
"""
    )
    return path


@pytest.fixture
def unreachable(
    tmp_path: Path, listener: Listener, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    """Every setting a function reads, each outside system at the listener."""
    url = f"127.0.0.1:{listener.port}"
    settings = {
        "REDIS_URLS": f"redis://{url}/0",
        "KUBECONFIG": str(kubeconfig_to(tmp_path / "kubeconfig", listener.port)),
        "GITHUB_API_URL": f"http://{url}",
        "GITHUB_TOKEN": "ghp_unreachable_test_token",
        "K_SINK": f"http://{url}",
        "WEBHOOK_SECRET": "unreachable-test-webhook-secret",
        "REMEDY_API_TOKENS": "operator:probe=unreachable-test-operator-token",
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    return settings
