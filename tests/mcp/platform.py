"""remedy over real HTTP for the MCP server's tests, with a task mid-review.

Every function is served in this process on its own port, as functions-framework
serves it; the local broker routes between them by knative/'s real Triggers and
records every event it accepts; the agent simulator plays CodeRuns labelled
``remedy.dev/simulate`` and acknowledges through control-api with each agent's own
token. So a cancellation requested through ``remedy mcp`` travels control-api → broker
→ agent-cancel → the CodeRun annotations → (the simulated agent) → control-api's
acknowledgement, as on ``remedy up``.

The task: Rex's push of task 12 has gone through the chain (the task has a
remediation state and epoch), then Cleo's and Tess's review runs started: running
CodeRuns nobody has asked to stop yet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import Cancellation, RemediationState
from remedy.events.codec import encode_binary
from remedy.local.broker import LocalBroker
from remedy.local.emulators.agents import AgentSimulator, Plan, agent_tokens
from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.local.ports import free_port
from tests.chain import seed
from tests.control import support
from tests.intake.conftest import function_app
from tests.support.events import push_event
from tests.support.waiting import eventually

KNATIVE = Path(__file__).resolve().parents[2] / "knative"
HOST = "127.0.0.1"
FUNCTIONS = ("push-intake", "agent-cancel", "label-update", "workflow-resume",
             "feedback-intake", "reconciler", "control-api")  # fmt: skip
TOKENS = support.TOKENS
TASK = support.TASK
SIMULATED = {"remedy.dev/simulate": "true"}
ACK_DELAY = "remedy.dev/simulate-ack-delay-seconds"
CANCEL_REQUESTED = "remedy.dev/cancel-requested-at"


@dataclass
class Platform:
    api: client.ApiClient
    custom: client.CustomObjectsApi
    broker: LocalBroker
    urls: dict[str, str]
    servers: list[ServedApp] = field(default_factory=list)
    simulator: AgentSimulator | None = None

    @property
    def control_api(self) -> str:
        return self.urls["control-api"]

    def stop(self) -> None:
        if self.simulator is not None:
            self.simulator.stop()
        self.broker.stop()
        for server in self.servers:
            server.stop()

    def state(self) -> RemediationState | None:
        return KubeRemediationStates(self.api, namespace=seed.STATE_NS).load(TASK)[0]

    def coderun(self, name: str) -> dict[str, Any] | None:
        return support.coderun(self.custom, name)

    def events(self, type_: str) -> list[Any]:
        """The events of ``type_`` the broker accepted, as ``(attributes, data)``."""
        return [(e.attributes, e.data) for e in self.broker.records.events() if e.type == type_]

    def review_run(self, name: str, agent: str, *, ack_delay: str | None) -> None:
        """A running review CodeRun; simulated (acknowledging after ``ack_delay`` seconds,
        or ``"never"``) unless ``ack_delay`` is None."""
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


def start(
    *, api: client.ApiClient, github: Any, set_env: Callable[[Mapping[str, str]], None]
) -> Platform:
    """Serve every function with the broker and the agent simulator; push task 12."""
    urls = {name: f"http://{HOST}:{free_port(HOST)}" for name in FUNCTIONS}
    broker = LocalBroker(KNATIVE, urls).start(host=HOST)
    tokens = ",".join(f"{p}={t}" for p, t in TOKENS.items())
    set_env({"K_SINK": broker.url, "REMEDY_API_TOKENS": tokens})
    platform = Platform(api, client.CustomObjectsApi(api), broker, urls)
    try:
        for name in FUNCTIONS:
            port = int(urls[name].rsplit(":", 1)[1])
            platform.servers.append(serve_in_thread(function_app(name), host=HOST, port=port))
        platform.simulator = AgentSimulator(
            api,
            [seed.AGENT_NS],
            plan=Plan(pending_seconds=0.01, run_seconds=600),
            control_api_url=platform.control_api,
            agent_tokens=agent_tokens(tokens),
        ).start()
        _pushed(platform, github)
    except BaseException:
        platform.stop()
        raise
    return platform


def _pushed(platform: Platform, github: Any) -> None:
    """Rex's push of task 12, as GitHubSource sends it, through the whole chain."""
    seed.play_workflow(platform.custom, task=TASK, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=support.BRANCH, labels=["ready-for-qa", f"task-{TASK}"])
    push = push_event(delivery="d-1", branch=support.BRANCH, before=support.OLD, after=support.NEW)
    headers, body = encode_binary(push)
    response = requests.post(platform.broker.url, data=body, headers=headers, timeout=10)
    assert response.status_code == 202, response.text

    def settled() -> RemediationState | None:
        state = platform.state()
        if state is None or not state.epoch or platform.broker.records.in_flight:
            return None
        return state

    eventually(settled, timeout=30, every=0.05, what="Rex's push to go through the chain",
               describe=platform.state)  # fmt: skip
