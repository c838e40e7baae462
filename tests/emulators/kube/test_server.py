"""Running the emulator: in-process lifecycle, plain HTTP mode, and the standalone command.

Covers: ``remedy emulate kube --port P --kubeconfig PATH`` (via ``python -m
remedy.local.emulators.kube.cli``) printing its base URL, writing a 0600 kubeconfig the
kubernetes client loads unchanged, and exiting cleanly on SIGTERM; the command
registered under ``remedy emulate``; invalid arguments refused; the context manager
stopping the server; ``tls=False`` serving plain HTTP with the same API; connections
kept alive between requests; a bug in the emulator answered as the apiserver's 500
``InternalError`` Status.
"""

from __future__ import annotations

import argparse
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from kubernetes import client, config

from remedy.local.emulators import cli as emulators_cli
from remedy.local.emulators.kube import KubeEmulator
from remedy.local.ports import free_port


def test_standalone_command(tmp_path: Path) -> None:
    port = free_port()
    kubeconfig = tmp_path / "kubeconfig"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "remedy.local.emulators.kube.cli",
            "--port",
            str(port),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert (
            process.stdout.readline().strip()
            == f"Kubernetes API emulator: https://127.0.0.1:{port}"
        )
        assert process.stdout.readline().strip() == f"kubeconfig: {kubeconfig}"
        assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
        load = config.new_client_from_config
        api = client.CustomObjectsApi(load(config_file=str(kubeconfig)))  # type: ignore[no-untyped-call]
        assert (
            api.list_namespaced_custom_object("agents.platform", "v1", "default", "coderuns")[
                "items"
            ]
            == []
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert process.returncode == 0


def test_registered_under_remedy_emulate() -> None:
    parser = argparse.ArgumentParser()
    emulators_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["emulate", "kube", "--port", "0", "--kubeconfig", "kc"])
    assert (args.emulator, args.port, args.kubeconfig) == ("kube", 0, Path("kc"))
    assert callable(args.func)


@pytest.mark.parametrize("arguments", [["--port", "70000"], ["--token", "short"]])
def test_bad_arguments(arguments: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "remedy.local.emulators.kube.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip()


def test_context_manager_stops_serving() -> None:
    with KubeEmulator(tls=False) as kube:
        url = kube.url
        assert requests.get(f"{url}/version", timeout=5).status_code == 200
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/version", timeout=5)
    with pytest.raises(RuntimeError):
        _ = kube.url


def test_plain_http_mode() -> None:
    with KubeEmulator(tls=False) as kube:
        assert kube.url.startswith("http://") and kube.ca_pem is None
        core = client.CoreV1Api(kube.api_client())
        assert {ns.metadata.name for ns in core.list_namespace().items} >= {"default"}  # type: ignore[union-attr]
        unauthenticated = requests.get(f"{kube.url}/api/v1/namespaces", timeout=5)
        assert unauthenticated.status_code == 401


def test_connections_are_kept_alive() -> None:
    with KubeEmulator(tls=False) as kube, requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {kube.token}"
        for _ in range(3):
            answer = session.get(f"{kube.url}/api/v1/namespaces", timeout=5)
            assert answer.status_code == 200
            assert answer.headers.get("Connection", "").lower() != "close"
        assert kube.open_connections == 1


def test_a_bug_is_answered_as_an_internal_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with KubeEmulator(tls=False) as kube:

        def bug(request: object) -> None:
            raise RuntimeError("a bug")

        monkeypatch.setattr(kube.app, "handle", bug)
        answer = requests.get(f"{kube.url}/version", timeout=5)
        assert (answer.status_code, answer.json()["reason"]) == (500, "InternalError")
    assert "RuntimeError: a bug" in capsys.readouterr().err
