"""``remedy up`` as a newcomer runs it: a real process tree, real ports, real signals.

Covers: it starts, writes a state file with every documented key, and every URL in it
gives its own answer (the gateway's and the broker's to a GET, each function's naming
it, control-api's for a task without state, with and without a token, the emulated
Kubernetes API's /version and /api, the GitHub API's /user and /rate_limit with the
token, each Redis master's PING and role); a signed webhook goes gateway → broker →
push-intake and push-intake's reply is routed on (the task's remediation state
appears, written by agent-cancel); ``remedy invoke`` sends a CloudEvent to the broker;
SIGTERM stops everything — the process exits 0, no process it started is left, every
port is free again, the state file is gone.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import redis
import requests
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, api_client
from tests.e2e.process import REMEDY, start_up
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

CLOUDEVENT_FUNCTIONS = (
    "push-intake",
    "agent-cancel",
    "label-update",
    "workflow-resume",
    "feedback-intake",
    "reconciler",
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    up = start_up(tmp_path_factory.mktemp("up"), "--demo")
    yield {"state": up.state, "proc": up.proc, "workdir": up.workdir, "state_file": up.state_file}
    up.stop(signal.SIGKILL)


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


def answer(response: requests.Response, status: int) -> Any:
    """``response``'s JSON body, once its status is ``status`` and its body JSON."""
    assert response.status_code == status, (response.url, response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return response.json()


def test_every_url_answers_as_itself(platform: dict[str, Any]) -> None:
    """Each URL in the state file gives the answer of what it claims to be."""
    state = platform["state"]
    functions = state["functions"]
    assert functions["webhook-gateway"] == state["gateway_url"]
    assert functions["control-api"] == state["control_api_url"]

    gateway = requests.get(state["gateway_url"], timeout=5)
    assert answer(gateway, 405) == {
        "error": "method_not_allowed",
        "message": "GET is not supported: GitHub POSTs webhooks",
    }
    assert gateway.headers["Allow"] == "POST"

    broker = requests.get(state["broker_url"], timeout=5)
    assert answer(broker, 405) == {"error": "GET is not allowed; POST a CloudEvent"}
    assert broker.headers["Allow"] == "POST, OPTIONS"

    for name in CLOUDEVENT_FUNCTIONS:  # each URL serves the function it is listed under
        assert answer(requests.get(functions[name], timeout=5), 405) == {
            "error": "method_not_allowed",
            "message": f"{name} takes CloudEvents by POST",
        }
    assert set(functions) == {"webhook-gateway", "control-api", *CLOUDEVENT_FUNCTIONS}

    control = f"{state['control_api_url']}/v1/tasks/999"
    operator = {"Authorization": f"Bearer {state['api_tokens']['operator:local']}"}
    assert answer(requests.get(control, headers=operator, timeout=5), 404) == {
        "error": "not_found",
        "message": "task 999 has no remediation state",
    }
    assert answer(requests.get(control, timeout=5), 401)["error"] == "unauthorized"

    github = requests.Session()
    github.headers["Authorization"] = f"token {state['github_token']}"
    user = answer(github.get(f"{state['github_api_url']}/user", timeout=5), 200)
    assert user["login"] == "remedy-bot"
    limits = answer(github.get(f"{state['github_api_url']}/rate_limit", timeout=5), 200)
    assert limits["resources"]["core"]["limit"] == 5000
    assert 0 < limits["rate"]["remaining"] <= 5000

    kube = api_client(state["kubeconfig"])
    version, status, _ = client.VersionApi(kube).get_code_with_http_info()
    assert status == 200
    assert version.git_version.startswith("v1.")
    versions, status, _ = client.CoreApi(kube).get_api_versions_with_http_info()
    assert status == 200
    assert (versions.kind, versions.versions) == ("APIVersions", ["v1"])

    assert len(set(state["redis_urls"])) == 3
    for url in state["redis_urls"]:
        master = redis.Redis.from_url(url)
        assert master.ping() is True
        assert master.info("replication")["role"] == "master"


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

    def taken() -> bool:
        current, _ = states.load(12)
        return current is not None and any(h.delivery == "e2e-delivery-1" for h in current.heads)

    eventually(  # polling another process's effect
        taken,
        timeout=30,
        every=0.1,
        what="push-intake's reply to reach agent-cancel (task 12's state naming the push)",
        describe=lambda: f"task 12's state: {states.load(12)[0]}",
    )


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
    assert not platform["state_file"].exists()


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
