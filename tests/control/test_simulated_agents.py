"""The agent simulator honouring the cancellation contract, end to end over real HTTP.

Covers: simulated Cleo and Tess runs, asked to stop by agent-cancel after Rex's push,
acknowledge through control-api (served by functions-framework's app over HTTP) with
their own tokens after their configured delay; control-api deletes both, the state
records both ``gone``, and ``agents.stopped`` reaches the broker once, after which
workflow-resume resumes the workflow; a run annotated
``remedy.dev/simulate-ack-delay-seconds: never`` is left running, unacknowledged, so
nothing is announced (the forced path is the reconciler's).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.agents import AgentSimulator, Plan, agent_tokens
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.http_server import ServedApp
from tests.chain import seed
from tests.control import support
from tests.intake.conftest import RecordingSink
from tests.support.events import reply
from tests.support.waiting import eventually

SIMULATED = {"remedy.dev/simulate": "true"}


@pytest.fixture
def simulator(
    api: client.ApiClient, served_control: ServedApp, control_env: dict[str, str]
) -> Iterator[AgentSimulator]:
    agents = AgentSimulator(
        api,
        [seed.AGENT_NS],
        plan=Plan(pending_seconds=0.01, run_seconds=600),
        control_api_url=served_control.url,
        agent_tokens=agent_tokens(control_env["REMEDY_API_TOKENS"]),
    ).start()
    yield agents
    agents.stop()


def _simulated(custom: client.CustomObjectsApi, name: str, agent: str, **annotations: str) -> None:
    seed.coderun(custom, name, task=support.TASK, agent=agent, phase="Running", labels=SIMULATED)
    if annotations:
        custom.patch_namespaced_custom_object(
            *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name,
            {"metadata": {"annotations": annotations}},
        )  # fmt: skip


def _stopped_events(recorder: RecordingSink) -> list[Any]:
    return [e for e in support.sent(recorder) if e["type"] == "dev.remedy.agents.stopped"]


def test_simulated_agents_acknowledge_and_the_workflow_resumes(
    simulator: AgentSimulator,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, [])
    _simulated(custom, "cleo-12", "5DLabs-Cleo")
    _simulated(custom, "tess-12", "5DLabs-Tess", **{"remedy.dev/simulate-ack-delay-seconds": "0"})
    done = support.remediate(chain)
    assert done.outcomes() == {"cleo-12": "cancel-requested", "tess-12": "cancel-requested"}

    [stopped] = eventually(lambda: _stopped_events(recorder), timeout=15.0)
    assert stopped.get_data()["coderuns"] == ["cleo-12", "tess-12"]
    assert support.coderun(custom, "cleo-12") is None
    assert support.coderun(custom, "tess-12") is None
    state, _ = support.state(api)
    assert {c.name: c.status for c in state.cancellations_for(done.epoch)} == {
        "cleo-12": "gone",
        "tess-12": "gone",
    }
    assert state.cancellations[f"{seed.AGENT_NS}/tess-12"].outcome.startswith(
        "acknowledged by 5DLabs-Tess"
    )

    resumed = reply(chain["workflow-resume"], stopped)
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"
    assert support.workflow_stage(custom) == "waiting-pr-created"
    assert len(_stopped_events(recorder)) == 1


def test_a_run_that_never_acknowledges_is_left_to_the_reconciler(
    simulator: AgentSimulator,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, [])
    never = {"remedy.dev/simulate-ack-delay-seconds": "never"}
    _simulated(custom, "tess-12", "5DLabs-Tess", **never)
    _simulated(custom, "cleo-12", "5DLabs-Cleo", **{"remedy.dev/simulate-ack-delay-seconds": "0"})
    done = support.remediate(chain)

    key = f"{seed.AGENT_NS}/cleo-12"
    eventually(lambda: support.state(api)[0].cancellations[key].status == "gone", timeout=15.0)
    tess = support.coderun(custom, "tess-12")
    assert tess is not None
    assert "remedy.dev/cancel-acknowledged-at" not in tess["metadata"]["annotations"]
    assert tess["status"]["phase"] == "Running"
    state, _ = support.state(api)
    assert state.cancellations[f"{seed.AGENT_NS}/tess-12"].status == "requested"
    assert not state.all_stopped(done.epoch)
    assert _stopped_events(recorder) == []
