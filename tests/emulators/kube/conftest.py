"""Fixtures for the Kubernetes API emulator's tests.

Every test gets its own emulator, started in-process on a free port (it starts in
milliseconds) with remedy's CRDs installed; the real clients — the kubernetes
package, kubectl, raw HTTP through ``requests`` — talk to it over HTTPS with its
bearer token (``api`` and ``custom`` come from tests/emulators/conftest.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from kubernetes import client

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import Http, Kubectl
from tests.support.kubectl import kubectl_binary


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    """Bookmarks every 0.2 s, so the watch tests see them without waiting."""
    with KubeEmulator(bookmark_interval=0.2) as emulator:
        yield emulator


@pytest.fixture
def core(api: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api)


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
    kubectl_binary()  # fails (never skips) the tests that need it when it is missing
    return Kubectl(kubeconfig, tmp_path / "kubectl-cache")
