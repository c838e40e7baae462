"""The Kubernetes client remedy builds: credentials refreshed once a second, not per call."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from remedy.adapters.kube import api as kube
from remedy.adapters.kube.api import ThrottledRefresh
from remedy.local.emulators.kube import KubeEmulator


class LoaderHook:
    """Behaves like the kubernetes loaders' hook: sets the token, installs a fresh hook."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, configuration: client.Configuration) -> None:
        self.calls += 1
        configuration.api_key["BearerToken"] = f"token-{self.calls}"
        configuration.refresh_api_key_hook = self.__call__  # a fresh bound method


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_loader_hook_runs_at_most_once_per_interval_and_stays_wrapped() -> None:
    configuration, hook, clock = client.Configuration(), LoaderHook(), Clock()
    configuration.refresh_api_key_hook = ThrottledRefresh(hook, interval_s=1.0, clock=clock)
    throttle = configuration.refresh_api_key_hook
    for _ in range(5):
        configuration.refresh_api_key_hook(configuration)
    assert hook.calls == 1
    assert configuration.refresh_api_key_hook is throttle  # the fresh hook was wrapped
    clock.now += 0.99
    configuration.refresh_api_key_hook(configuration)
    assert hook.calls == 1
    clock.now += 0.02
    configuration.refresh_api_key_hook(configuration)
    assert (hook.calls, configuration.api_key["BearerToken"]) == (2, "token-2")
    assert configuration.refresh_api_key_hook is throttle


@pytest.fixture
def emulator() -> Iterator[KubeEmulator]:
    with KubeEmulator() as running:
        yield running


def test_a_kubeconfig_client_keeps_authenticating_with_the_throttled_hook(
    emulator: KubeEmulator, tmp_path: Path
) -> None:
    api = kube.api_client(str(emulator.write_kubeconfig(tmp_path / "kubeconfig")))
    try:
        assert isinstance(api.configuration.refresh_api_key_hook, ThrottledRefresh)
        core = client.CoreV1Api(api)
        statuses: list[Any] = [core.list_namespace(_preload_content=False).status for _ in range(3)]
        assert statuses == [200, 200, 200]
        assert api.configuration.api_key["BearerToken"] == f"Bearer {emulator.token}"
    finally:
        api.close()
