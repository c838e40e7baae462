"""The emulated platform for the remediation chain's functions, driven in-process.

Each test gets a fresh Kubernetes emulator (with remedy's namespaces and CRDs), a
GitHub emulator holding the task's repository, real Redis masters, and the functions
as functions-framework serves them, configured through their environment only.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.intake.conftest import function_app


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emulator:
        yield emulator


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[client.ApiClient]:
    api_client = kube.api_client()
    seed.namespaces(client.CoreV1Api(api_client))
    yield api_client
    api_client.close()


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def github() -> Iterator[GitHubEmulator]:
    with GitHubEmulator() as emulator:
        seed.repository(emulator)
        yield emulator


@pytest.fixture
def platform_env(
    kube: KubeEmulator,
    api: client.ApiClient,
    github: GitHubEmulator,
    redis_urls: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    env = {
        "KUBECONFIG": str(kube.write_kubeconfig(tmp_path / "kubeconfig")),
        "GITHUB_API_URL": github.url,
        "GITHUB_TOKEN": github.token,
        "REDIS_URLS": ",".join(redis_urls),
        "REMEDY_CANCEL_GRACE_SECONDS": "30",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def apps(platform_env: dict[str, str]) -> dict[str, Any]:
    names = ("push-intake", "agent-cancel", "label-update", "workflow-resume")
    return {name: function_app(name).test_client() for name in names}
