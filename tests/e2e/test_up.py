"""``remedy up`` as a newcomer runs it: a real process tree, real ports, real signals.

Covers: it starts, writes a state file with every documented key, and every URL in it
answers (gateway, broker, functions, the emulated Kubernetes and GitHub APIs, Redis);
a signed webhook goes gateway → broker → push-intake and push-intake's reply is routed
on (the task's remediation state appears, written by agent-cancel); ``remedy invoke``
sends a CloudEvent to the broker; SIGTERM stops everything — the process exits 0, no
process it started is left, every port is free again, the state file is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import redis
import requests
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, api_client

pytestmark = pytest.mark.e2e

REMEDY = [sys.executable, "-m", "remedy.cli"]
START_TIMEOUT_S = 90


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    workdir = tmp_path_factory.mktemp("up")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN"}
    }
    log = (workdir / "up.log").open("w")
    proc = subprocess.Popen(
        [*REMEDY, "up", "--workdir", str(workdir), "--demo"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,
    )
    state_file = workdir / "state.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not state_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"remedy up did not start:\n{(workdir / 'up.log').read_text()[-4000:]}")
        time.sleep(0.1)  # polling a file another process writes; no event to wait on
    state = json.loads(state_file.read_text())
    yield {"state": state, "proc": proc, "workdir": workdir, "state_file": state_file}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_state_file_has_every_documented_key(platform: dict[str, Any]) -> None:
    state = platform["state"]
    for key in (
        "gateway_url",
        "broker_url",
        "kubeconfig",
        "github_api_url",
        "github_token",
        "webhook_secret",
        "redis_urls",
        "functions",
    ):
        assert state.get(key), key
    assert set(state["functions"]) >= {"webhook-gateway", "push-intake", "agent-cancel"}
    assert oct(platform["state_file"].stat().st_mode & 0o777) == "0o600"


def test_every_url_answers(platform: dict[str, Any]) -> None:
    state = platform["state"]
    for name, url in state["functions"].items():
        assert requests.get(url, timeout=5).status_code in (404, 405), name
    assert requests.get(state["broker_url"], timeout=5).status_code in (400, 405)
    assert requests.get(
        f"{state['github_api_url']}/user",
        timeout=5,
        headers={"Authorization": f"token {state['github_token']}"},
    ).ok
    assert client.VersionApi(api_client(state["kubeconfig"])).get_code().git_version
    for url in state["redis_urls"]:
        assert redis.Redis.from_url(url).ping()


def test_invoke_sends_a_cloudevent_to_the_broker(platform: dict[str, Any]) -> None:
    result = subprocess.run(
        [
            *REMEDY,
            "invoke",
            "--state-file",
            str(platform["state_file"]),
            "--type",
            "dev.remedy.invoke",
            "--data",
            '{"hello": "world"}',
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("202")


def test_a_webhook_flows_through_gateway_broker_and_push_intake(platform: dict[str, Any]) -> None:
    state = platform["state"]
    push = Path(state["demo"]["push_file"])
    result = subprocess.run(
        [
            *REMEDY,
            "invoke",
            "webhook",
            "--event",
            "push",
            "--file",
            str(push),
            "--state-file",
            str(platform["state_file"]),
            "--wait",
            "0",
            "--id",
            "e2e-delivery-1",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    states = KubeRemediationStates(api_client(state["kubeconfig"]), namespace="remedy")
    deadline = time.monotonic() + 30
    while True:
        current, _ = states.load(12)
        if current is not None and any(h.delivery == "e2e-delivery-1" for h in current.heads):
            break
        assert time.monotonic() < deadline, "push-intake's reply never reached agent-cancel"
        time.sleep(0.1)  # polling another process's effect


def test_sigterm_stops_everything_and_frees_the_ports(platform: dict[str, Any]) -> None:
    proc, state = platform["proc"], platform["state"]
    os.kill(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    for name, pid in state["pids"].items():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
            pytest.fail(f"{name} (pid {pid}) outlived remedy up")
    urls = [
        state["gateway_url"],
        state["broker_url"],
        state["github_api_url"],
        *state["functions"].values(),
        *state["redis_urls"],
    ]
    ours = {*state["pids"].values(), proc.pid}
    for url in urls:
        port = urlparse(url).port or 0
        # a freed port may be taken at once by another program on a busy machine: what
        # matters is that nothing of remedy's listens on it any more
        assert not listener_pids(port) & ours, f"{url} is still served by remedy"


def listener_pids(port: int) -> set[int]:
    """PIDs holding a listening TCP socket on ``port`` (Linux /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                    inodes.add(fields[9])
    pids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                link = os.readlink(f"/proc/{entry}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.add(int(entry))
        except OSError:
            continue
    return pids
    assert not platform["state_file"].exists()
