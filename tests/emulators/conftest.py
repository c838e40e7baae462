"""Fixtures the emulator and simulator suites share.

- ``kube``: a Kubernetes API emulator per test, started in-process on a free port with
  remedy's CRDs (a suite overrides it where it needs more: namespaces, faster bookmarks);
- ``api``/``custom``: the official kubernetes client, talking to it over HTTPS with its
  bearer token, closed after the test;
- ``started``: starts a simulator and stops it after the test (after the test's own
  fixtures that started later), so each suite's ``simulate`` keeps only its defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeVar

import pytest
from kubernetes import client

from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.simulation import Simulator

S = TypeVar("S", bound=Simulator)


@pytest.fixture
def kube() -> Iterator[KubeEmulator]:
    with KubeEmulator() as emulator:
        yield emulator


@pytest.fixture
def api(kube: KubeEmulator) -> Iterator[client.ApiClient]:
    api_client = kube.api_client()
    yield api_client
    api_client.close()


@pytest.fixture
def custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


@pytest.fixture
def started() -> Iterator[Callable[[S], S]]:
    running: list[Simulator] = []

    def start(simulator: S) -> S:
        running.append(simulator.start())
        return simulator

    yield start
    for simulator in running:
        simulator.stop()
