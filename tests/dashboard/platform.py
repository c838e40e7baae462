"""The platform the dashboard's browser tests run against: remedy over real HTTP.

Every function is served in this process over HTTP on its own port, as functions-framework
serves it; the local broker routes between them by knative/'s real Triggers; the agent
simulator plays the CodeRuns marked ``remedy.dev/simulate`` and acknowledges through
control-api with each agent's own token. So a Cancel pressed in the browser travels
control-api → broker → agent-cancel → the CodeRun → the simulated agent → control-api's
acknowledgement, as on ``remedy up`` (where each function is a process of its own).

control-api is wrapped in a recorder of every request that reached it (method, path,
query, the Authorization and Idempotency-Key headers), which the tests read to check
that the token travelled only as a header.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.agents import format_time
from remedy.domain.remediation import (
    Cancellation,
    CancellationStatus,
    Event,
    Head,
    RemediationState,
)
from remedy.events.codec import encode_binary
from remedy.local.broker import LocalBroker
from remedy.local.emulators.agents import AgentSimulator, Plan, agent_tokens
from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.local.ports import free_port
from tests.chain import seed
from tests.intake.conftest import function_app
from tests.support.events import push_event
from tests.support.waiting import eventually

KNATIVE = Path(__file__).resolve().parents[2] / "knative"
HOST = "127.0.0.1"
TASK = 12
BRANCH = f"task-{TASK}-fix-login"
OLD, NEW = "1" * 40, "2" * 40
OPERATOR_TOKEN = "dashboard-operator-token-0123456789"
TOKENS = {
    "operator:alice": OPERATOR_TOKEN,
    "5DLabs-Cleo": "dashboard-cleo-token-0123456789",
    "5DLabs-Tess": "dashboard-tess-token-0123456789",
    "5DLabs-Rex": "dashboard-rex-token-0123456789",
}
SIMULATED = {"remedy.dev/simulate": "true"}
ACK_DELAY = "remedy.dev/simulate-ack-delay-seconds"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    authorization: str
    idempotency_key: str


@dataclass
class RequestLog:
    """WSGI middleware: records each request that reaches ``app``, then passes it on."""

    app: Callable[..., Any]
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        entry = Seen(
            environ["REQUEST_METHOD"],
            environ.get("PATH_INFO", ""),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_AUTHORIZATION", ""),
            environ.get("HTTP_IDEMPOTENCY_KEY", ""),
        )
        with self.lock:
            self.seen.append(entry)
        return self.app(environ, start_response)

    def requests(self) -> list[Seen]:
        with self.lock:
            return list(self.seen)


@dataclass
class Platform:
    api: client.ApiClient
    custom: client.CustomObjectsApi
    control: RequestLog
    urls: dict[str, str]
    broker: LocalBroker | None
    servers: list[ServedApp] = field(default_factory=list)
    simulator: AgentSimulator | None = None

    @property
    def dashboard_url(self) -> str:
        return self.urls["control-api"] + "/dashboard/"

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
        if self.broker is not None:
            self.broker.stop()
        for server in self.servers:
            server.stop()

    def state(self, task: int = TASK) -> RemediationState | None:
        return KubeRemediationStates(self.api, namespace=seed.STATE_NS).load(task)[0]

    def push(self, *, delivery: str = "d-1") -> None:
        """Rex's push, as GitHubSource sends it to the broker."""
        assert self.broker is not None, "this platform has no broker"
        headers, body = encode_binary(
            push_event(delivery=delivery, branch=BRANCH, before=OLD, after=NEW)
        )
        response = requests.post(self.broker.url, data=body, headers=headers, timeout=10)
        assert response.status_code == 202, response.text


def start(
    *,
    api: client.ApiClient,
    names: Iterable[str],
    env: Callable[[dict[str, str]], None],
    sink_url: str | None = None,
) -> Platform:
    """Serve ``names`` (control-api always) with the broker, or with ``sink_url`` as K_SINK.

    ``env`` sets the functions' environment (K_SINK, REMEDY_API_TOKENS) before any of
    them is built: they read it when created or on their first request.
    """
    served = sorted({*names, "control-api"})
    urls = {name: f"http://{HOST}:{free_port(HOST)}" for name in served}
    broker = LocalBroker(KNATIVE, urls).start(host=HOST) if sink_url is None else None
    tokens = ",".join(f"{p}={t}" for p, t in TOKENS.items())
    env({"K_SINK": sink_url or (broker.url if broker else ""), "REMEDY_API_TOKENS": tokens})
    control = RequestLog(function_app("control-api"))
    platform = Platform(api, client.CustomObjectsApi(api), control, urls, broker)
    try:
        for name in served:
            app = control if name == "control-api" else function_app(name)
            platform.servers.append(serve_in_thread(app, host=HOST, port=_port(urls[name])))
    except BaseException:
        platform.stop()
        raise
    return platform


def with_agents(platform: Platform) -> AgentSimulator:
    """The agent simulator, acknowledging through control-api (runs stay up 10 minutes)."""
    platform.simulator = AgentSimulator(
        platform.api,
        [seed.AGENT_NS],
        plan=Plan(pending_seconds=0.01, run_seconds=600),
        control_api_url=platform.urls["control-api"],
        agent_tokens=agent_tokens(",".join(f"{p}={t}" for p, t in TOKENS.items())),
    ).start()
    return platform.simulator


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def simulated_run(
    custom: client.CustomObjectsApi, name: str, agent: str, *, ack_delay_s: float
) -> None:
    """A running CodeRun of the task that the simulated agent acknowledges after a delay."""
    seed.coderun(custom, name, task=TASK, agent=agent, phase="Running", labels=SIMULATED)
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name,
        {"metadata": {"annotations": {ACK_DELAY: str(ack_delay_s)}}},
    )  # fmt: skip


def remediated(platform: Platform, github: Any) -> RemediationState:
    """Task 12 after Rex's push went through the whole chain: Cleo's run asked to stop and
    acknowledged, the labels reset, the workflow resumed."""
    seed.play_workflow(platform.custom, task=TASK, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", f"task-{TASK}"])
    simulated_run(platform.custom, "cleo-12", "5DLabs-Cleo", ack_delay_s=0)
    platform.push()

    def resumed() -> RemediationState | None:
        state = platform.state()
        if state is None or not state.epoch or state.resumed_epoch != state.epoch:
            return None
        return state if state.all_stopped(state.epoch) else None

    return eventually(resumed, timeout=30, every=0.1, what="the push's remediation to finish",
                      describe=platform.state)  # fmt: skip


def save_states(api: client.ApiClient, many: Iterable[RemediationState]) -> None:
    """Save remediation states directly (for pages that need no chain behind them)."""
    store = KubeRemediationStates(api, namespace=seed.STATE_NS)
    for state in many:
        store.save(state, resource_version=None)


def a_state(
    task_id: int,
    repository: str = seed.REPO,
    *,
    epoch: int = 0,
    statuses: Iterable[CancellationStatus] = (),
) -> RemediationState:
    """A task's state as if remediated (``epoch`` > 0: one push), with cancellations in
    ``statuses``; deadlines 30 s from now."""
    now = datetime.now(UTC)
    at, deadline = format_time(now), format_time(now + timedelta(seconds=30))
    delivery = f"d-{task_id}"
    heads = [Head(sha=NEW, before=OLD, epoch=epoch, delivery=delivery, pushed_at=at)]
    runs = {
        f"{seed.AGENT_NS}/run-{task_id}-{i}": Cancellation(
            namespace=seed.AGENT_NS,
            name=f"run-{task_id}-{i}",
            uid=f"uid-{i}",
            agent="5DLabs-Cleo",
            epoch=epoch,
            for_head=NEW,
            requested_at=at,
            deadline=deadline,
            status=status,
            reason="seeded",
            requested_by="operator:alice",
        )
        for i, status in enumerate(statuses)
    }
    history = [Event(at=at, epoch=epoch, delivery=delivery, step="agent-cancel", outcome="seeded")]
    return RemediationState(
        task_id=task_id,
        repository=repository,
        epoch=epoch,
        heads=heads if epoch else [],
        cancellations=runs,
        history=history if epoch else [],
    )
