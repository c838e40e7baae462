"""remedy over real HTTP in this process, with task 12 remediated: what the tools talk to.

The MCP server's tests, the dashboard's browser tests and the consistency test of the
four ways to cancel (tests/consistency/) all need remedy as ``remedy up`` runs it:

- every function served over HTTP on its own port, as functions-framework serves it
  (:func:`start`; control-api, which also serves the dashboard's files, always);
- the local broker routing between them by knative/'s real Triggers and recording
  every event it accepts (``broker.records``) — or, for pages that need no chain, a
  recording stand-in as K_SINK (``sink_url``);
- the agent simulator playing CodeRuns labelled ``remedy.dev/simulate`` and
  acknowledging through control-api with each agent's own token;
- control-api wrapped in :class:`RequestLog`, a recorder of every request that reached
  it (method, path, query, the Authorization and Idempotency-Key headers), so a test
  can tell what a client sent without trusting the client;
- :func:`remediated`: Rex's push of task 12, as GitHubSource sends it, through the whole
  chain (the task has a remediation state, an epoch, its workflow resumed).

So a cancellation requested through any tool travels control-api → broker →
agent-cancel → the CodeRun's annotations → the simulated agent → control-api's
acknowledgement, as on ``remedy up`` (where each function is a process of its own).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import Cancellation, RemediationState
from remedy.events.codec import encode_binary
from remedy.local.broker import LocalBroker
from remedy.local.emulators.agents import AgentSimulator, Plan, agent_tokens
from remedy.local.http_server import ServedApp, make
from tests.chain import seed
from tests.control import support
from tests.intake.conftest import function_app
from tests.support.events import push_event
from tests.support.waiting import eventually

KNATIVE = Path(__file__).resolve().parents[2] / "knative"
HOST = "127.0.0.1"
CHAIN = ("push-intake", "agent-cancel", "label-update", "workflow-resume", "feedback-intake",
         "reconciler")  # fmt: skip
"""Every function but control-api (which is always served)."""
TASK, BRANCH, OLD, NEW = support.TASK, support.BRANCH, support.OLD, support.NEW
TOKENS = support.TOKENS
"""control-api's ``REMEDY_API_TOKENS``: an operator's and each agent's own."""
OPERATOR = "operator:alice"
OPERATOR_TOKEN = TOKENS[OPERATOR]
SIMULATED = {"remedy.dev/simulate": "true"}
ACK_DELAY = "remedy.dev/simulate-ack-delay-seconds"
CANCEL_REQUESTED = "remedy.dev/cancel-requested-at"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str
    authorization: str
    idempotency_key: str


@dataclass
class RequestLog:
    """WSGI middleware: records each request that reaches ``app``, then passes it on.

    ``handling`` counts the requests ``app`` has not answered yet: once it is 0, every
    event control-api sent while answering has been taken by the broker (a streamed
    answer, the watch, counts as answered when its stream starts).
    """

    app: Callable[..., Any]
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    handling: int = 0

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
            self.handling += 1
        try:
            return self.app(environ, start_response)
        finally:
            with self.lock:
                self.handling -= 1

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
    """None when the functions' K_SINK is a stand-in (``start(sink_url=...)``)."""
    servers: list[ServedApp] = field(default_factory=list)
    simulator: AgentSimulator | None = None

    @property
    def control_api(self) -> str:
        return self.urls["control-api"]

    @property
    def dashboard_url(self) -> str:
        return self.control_api + "/dashboard/"

    def routing(self) -> LocalBroker:
        assert self.broker is not None, "this platform has no broker"
        return self.broker

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
        if self.broker is not None:
            self.broker.stop()
        for server in self.servers:
            server.stop()

    def state(self, task: int = TASK) -> RemediationState | None:
        return KubeRemediationStates(self.api, namespace=seed.STATE_NS).load(task)[0]

    def coderun(self, name: str) -> dict[str, Any] | None:
        return support.coderun(self.custom, name)

    def events(self, type_: str) -> list[Any]:
        """The events of ``type_`` the broker accepted, as ``(attributes, data)``."""
        return [(e.attributes, e.data) for e in self.routing().records.events() if e.type == type_]

    def push(self, *, delivery: str = "d-1") -> None:
        """Rex's push, as GitHubSource sends it to the broker."""
        push = push_event(delivery=delivery, branch=BRANCH, before=OLD, after=NEW)
        headers, body = encode_binary(push)
        response = requests.post(self.routing().url, data=body, headers=headers, timeout=10)
        assert response.status_code == 202, response.text

    def review_run(self, name: str, agent: str, *, ack_delay: str | None) -> None:
        """A running CodeRun of the task; simulated (its agent acknowledging a cancellation
        after ``ack_delay`` seconds, or ``"never"``) unless ``ack_delay`` is None."""
        labels = SIMULATED if ack_delay is not None else None
        seed.coderun(self.custom, name, task=TASK, agent=agent, phase="Running", labels=labels)
        if ack_delay is not None:
            self.custom.patch_namespaced_custom_object(
                *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name,
                {"metadata": {"annotations": {ACK_DELAY: ack_delay}}},
            )  # fmt: skip

    def asked_to_stop(self, *names: str) -> dict[str, Cancellation]:
        """Wait until agent-cancel has recorded a cancellation of each run; those."""

        def recorded() -> dict[str, Cancellation] | None:
            state = self.state()
            found = {c.name: c for c in (state.cancellations.values() if state else ())}
            return found if set(names) <= set(found) else None

        return eventually(recorded, timeout=15, every=0.05, what=f"{names} asked to stop",
                          describe=self.state)  # fmt: skip

    def annotations(self, *names: str) -> dict[str, dict[str, str]]:
        """Wait until each run carries the cancellation annotations; its annotations."""

        def annotated() -> dict[str, dict[str, str]] | None:
            runs = {n: self.coderun(n) or {} for n in names}
            notes = {n: run.get("metadata", {}).get("annotations") or {} for n, run in runs.items()}
            return notes if all(CANCEL_REQUESTED in a for a in notes.values()) else None

        return eventually(annotated, timeout=15, every=0.05, what=f"{names} annotated")


def environment(monkeypatch: pytest.MonkeyPatch) -> Callable[[Mapping[str, str]], None]:
    """What :func:`start` takes as ``env``: sets each variable for the test's duration."""

    def set_env(values: Mapping[str, str]) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_env


def _not_ready(environ: Any, start_response: Any) -> list[bytes]:
    """What a server bound before its app was built answers (never reached: it is not
    served until the app is in place)."""
    start_response("503 Service Unavailable", [("Content-Type", "text/plain")])
    return [b"not ready\n"]


def start(
    *,
    api: client.ApiClient,
    env: Callable[[Mapping[str, str]], None],
    names: Iterable[str] = CHAIN,
    sink_url: str | None = None,
    agents: bool = True,
) -> Platform:
    """Serve ``names`` and control-api, with the broker (or ``sink_url`` as K_SINK) and,
    with ``agents``, the agent simulator.

    ``env`` sets the functions' environment (K_SINK, REMEDY_API_TOKENS) before any of
    them is built: they read it when created or on their first request.
    """
    served = sorted({*names, "control-api"})
    # bound first, served once built: the broker needs every URL and the functions the
    # broker's (a port only picked, not held, could be taken by then)
    bound = {name: make(_not_ready, host=HOST) for name in served}
    urls = {name: server.url for name, server in bound.items()}
    broker = LocalBroker(KNATIVE, urls).start(host=HOST) if sink_url is None else None
    tokens = ",".join(f"{p}={t}" for p, t in TOKENS.items())
    env({"K_SINK": sink_url or (broker.url if broker else ""), "REMEDY_API_TOKENS": tokens})
    control = RequestLog(function_app("control-api"))
    platform = Platform(api, client.CustomObjectsApi(api), control, urls, broker)
    try:
        for name in served:
            app = control if name == "control-api" else function_app(name)
            platform.servers.append(bound.pop(name).start(app))
        if agents:
            platform.simulator = AgentSimulator(
                api,
                [seed.AGENT_NS],
                plan=Plan(pending_seconds=0.01, run_seconds=600),  # runs stay up 10 minutes
                control_api_url=platform.control_api,
                agent_tokens=agent_tokens(tokens),
            ).start()
    except BaseException:
        for server in bound.values():
            server.server.server_close()
        platform.stop()
        raise
    return platform


def remediated(
    platform: Platform, github: Any, *, runs: Iterable[tuple[str, str]] = ()
) -> RemediationState:
    """Task 12 after Rex's push went through the whole chain: the labels reset, the
    workflow moved to waiting-pr-created and resumed, and each of ``runs`` (name, agent:
    running review runs, their simulated agents acknowledging at once) asked to stop
    and gone; nothing left in flight on the broker."""
    seed.play_workflow(platform.custom, task=TASK, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa", f"task-{TASK}"])
    for name, agent in runs:
        platform.review_run(name, agent, ack_delay="0")
    platform.push()

    def settled() -> RemediationState | None:
        state = platform.state()
        if state is None or not state.epoch or state.resumed_epoch != state.epoch:
            return None
        if not state.all_stopped(state.epoch) or platform.routing().records.in_flight:
            return None
        return state

    return eventually(settled, timeout=30, every=0.05, what="Rex's push to go through the chain",
                      describe=platform.state)  # fmt: skip
