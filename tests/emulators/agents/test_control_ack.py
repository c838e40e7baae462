"""Simulated agents acknowledging through control-api (a scripted stand-in here).

Covers: the acknowledgement POSTed to ``/v1/coderuns/{ns}/{name}/cancellation/ack``
with the run's agent's bearer token, found whatever the login's case or ``[bot]``
suffix; after it the simulated agent stops — it no longer moves the run, while a run
on the same schedule that was not asked to stop finishes; a 5xx answer retried until
control-api takes it; which answers are worth retrying (5xx, 429, unreachable) and
which are not (401/403/404/409, or no token for the agent); operators' entries left
out of the agents' tokens; the standalone command refusing ``--control-api`` without
tokens.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from remedy.domain import agents
from remedy.local.emulators.agents import AckFailed, AgentSimulator, ControlApiAcknowledge, Plan
from remedy.local.emulators.agents import agent_tokens as parse_agent_tokens
from remedy.local.emulators.kube import KubeEmulator
from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.local.ports import free_port
from tests.emulators.agents.support import CODERUN, phase, run
from tests.support.waiting import eventually

TOKENS = {"5dlabs-cleo[bot]": "cleo-token-0123456789"}


@dataclass
class StubControlApi:
    """Records acknowledgements and answers them with ``statuses`` in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            self.calls.append(
                (
                    environ["REQUEST_METHOD"],
                    environ["PATH_INFO"],
                    environ.get("HTTP_AUTHORIZATION", ""),
                )
            )
            status = self.statuses.pop(0) if self.statuses else 200
        start_response(f"{status} X", [("Content-Type", "application/json")])
        return [b"{}"]

    def count(self) -> int:
        with self.lock:
            return len(self.calls)


@pytest.fixture
def stub() -> Iterator[tuple[StubControlApi, ServedApp]]:
    app = StubControlApi()
    served = serve_in_thread(app)
    yield app, served
    served.stop()


def _request_cancel(kube: KubeEmulator, name: str) -> None:
    obj = kube.get(*CODERUN, name)
    obj["metadata"]["annotations"][agents.CANCEL_REQUESTED_AT] = "2025-01-01T00:00:00.000000Z"
    kube.apply(obj)


def _asked_while_running(
    kube: KubeEmulator,
    simulate: Callable[..., AgentSimulator],
    stub: tuple[StubControlApi, ServedApp],
    name: str,
    *,
    run_seconds: float,
    acks: int,
) -> None:
    """Run ``name`` under agents that acknowledge through the stub, ask it to stop once
    it runs, and wait for the stub to have taken ``acks`` acknowledgements."""
    app, served = stub
    simulate(
        plan=Plan(pending_seconds=0.01, run_seconds=run_seconds, ack_seconds=0.01),
        control_api_url=served.url,
        agent_tokens=TOKENS,
    )
    kube.apply(run(name))
    eventually(lambda: phase(kube, name) == "Running")
    _request_cancel(kube, name)
    eventually(lambda: app.count() == acks)


def test_the_agent_acknowledges_with_its_token_then_stops(
    kube: KubeEmulator,
    simulate: Callable[..., AgentSimulator],
    stub: tuple[StubControlApi, ServedApp],
) -> None:
    app, _ = stub
    _asked_while_running(kube, simulate, stub, "asked", run_seconds=0.5, acks=1)
    assert app.calls == [
        ("POST", "/v1/coderuns/default/asked/cancellation/ack", "Bearer cleo-token-0123456789")
    ]
    kube.apply(run("sibling"))  # same schedule, started later, never asked to stop
    eventually(lambda: phase(kube, "sibling") == "Succeeded")
    assert phase(kube, "asked") == "Running", "an agent that acknowledged does nothing more"
    assert app.count() == 1


def test_a_failed_acknowledgement_is_retried(
    kube: KubeEmulator,
    simulate: Callable[..., AgentSimulator],
    stub: tuple[StubControlApi, ServedApp],
) -> None:
    app, _ = stub
    app.statuses = [503, 500]
    _asked_while_running(kube, simulate, stub, "flaky", run_seconds=60, acks=3)
    assert {call[1] for call in app.calls} == {"/v1/coderuns/default/flaky/cancellation/ack"}


@pytest.mark.parametrize(
    ("status", "retry"),
    [(401, False), (403, False), (404, False), (409, False), (429, True), (500, True), (503, True)],
)
def test_which_failures_are_retried(
    stub: tuple[StubControlApi, ServedApp], status: int, retry: bool
) -> None:
    app, served = stub
    app.statuses = [status]
    acknowledge = ControlApiAcknowledge(served.url, TOKENS)
    with pytest.raises(AckFailed, match=f"answered {status}") as failed:
        acknowledge(run("r"))
    assert failed.value.retry is retry
    acknowledge(run("r"))  # the next answer is 200: no error


def test_unreachable_is_retried_and_unknown_agents_are_not() -> None:
    unreachable = ControlApiAcknowledge(f"http://127.0.0.1:{free_port('127.0.0.1')}", TOKENS)
    with pytest.raises(AckFailed) as failed:
        unreachable(run("r"))
    assert failed.value.retry is True
    stranger = run("r")
    stranger["spec"]["githubApp"] = "5DLabs-Tess"
    with pytest.raises(AckFailed, match="no control-api token for agent 5DLabs-Tess") as missing:
        unreachable(stranger)
    assert missing.value.retry is False
    with pytest.raises(ValueError, match="not an http"):
        ControlApiAcknowledge("ftp://example", TOKENS)


def test_agent_tokens_leave_out_operators() -> None:
    raw = "5DLabs-Cleo=aaaa,operator:alice=bbbb, 5DLabs-Tess[bot] = cccc ,junk"
    assert parse_agent_tokens(raw) == {"5DLabs-Cleo": "aaaa", "5DLabs-Tess[bot]": "cccc"}


def test_standalone_control_api_needs_tokens(kube: KubeEmulator, tmp_path: Path) -> None:
    kubeconfig = kube.write_kubeconfig(tmp_path / "kubeconfig")
    finished = subprocess.run(
        [sys.executable, "-m", "remedy.local.emulators.agents", "--kubeconfig", str(kubeconfig),
         "--control-api", "http://127.0.0.1:1"],
        capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": "", "REMEDY_API_TOKENS": ""},
    )  # fmt: skip
    assert finished.returncode == 2
    assert "REMEDY_API_TOKENS" in finished.stderr
