"""Acknowledging a cancellation through control-api, on the emulated platform.

Covers: no token, an unknown token, another scheme → 401 (before anything else, even a
bad identifier); another agent, and an operator, acking an agent's run → 403; an unknown
run → 404; a run nobody asked to stop → 409; the run's agent (``[bot]`` login form
included) acking → 200, the run deleted and confirmed gone, the state's Cancellation
``gone`` with who acknowledged, a history entry; a repeated ack → 200 "already
acknowledged" with no write (state and run resourceVersions unchanged), both after the
run is gone and while its deletion is pending (a finalizer: Cancellation
``acknowledged``, no announcement); ``agents.stopped`` sent to the broker exactly when
the last cancelled run of the epoch is acknowledged, not before, and workflow-resume
resuming the workflow on it; a 409 from a concurrent change to the run re-read and
retried, a storm of them → 503 Retry-After with nothing changed (and the ack going
through once it passes); a request seen only on the run (its record lost) acknowledged
and recorded, with the reason and requester its annotations give; a run gone before its
agent acked recorded ``gone``; a broker that refuses the event still gets the ack
recorded (200, ``sent: false``); malformed namespaces, names and task ids → 400; a known
path with another method → 405 with Allow; an unknown path → 404. Every refusal changes
nothing.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client
from werkzeug.test import Client

from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.control import support
from tests.intake.conftest import RecordingSink
from tests.support.events import post, reply

RUNS = support.RUNS


def _versions(api: client.ApiClient, custom: client.CustomObjectsApi) -> dict[str, str]:
    versions = {"state": support.state(api)[1]}
    for name, _, _ in RUNS:
        run = support.coderun(custom, name)
        versions[name] = run["metadata"]["resourceVersion"] if run else "gone"
    return versions


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer not-a-known-token-at-all"},
        {"Authorization": f"Basic {support.TOKENS['5DLabs-Cleo']}"},
    ],
    ids=["missing", "unknown", "other-scheme"],
)
def test_unauthenticated_is_401(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    headers: dict[str, str],
) -> None:
    before = _versions(api, custom)
    for path in (support.ack_path("cleo-12"), support.ack_path("BAD_NAME")):
        response = control.post(path, headers=headers)
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized"
        assert "Bearer" in response.json["message"]
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert _versions(api, custom) == before


@pytest.mark.parametrize(
    ("principal", "complaint"),
    [("5DLabs-Tess[bot]", "is not the agent of"), ("operator:alice", "operators cannot")],
)
def test_only_the_runs_own_agent_may_ack(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    principal: str,
    complaint: str,
) -> None:
    before = _versions(api, custom)
    response = control.post(support.ack_path("cleo-12"), headers=support.auth(principal))
    assert response.status_code == 403, response.json
    assert response.json["error"] == "forbidden"
    assert complaint in response.json["message"]
    assert _versions(api, custom) == before


def test_unknown_run_is_404(control: Client, cancelling: support.Cancelled) -> None:
    response = control.post(support.ack_path("nobody-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 404
    assert response.json == {
        "error": "not_found",
        "message": "there is no CodeRun agent-platform/nobody-12, and no cancellation of it "
        "is recorded",
    }


def test_a_run_nobody_asked_to_stop_is_409(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
) -> None:
    before = _versions(api, custom)
    response = control.post(support.ack_path("rex-12"), headers=support.auth("5DLabs-Rex"))
    assert response.status_code == 409
    assert response.json["error"] == "wrong_state"
    assert "no cancellation was requested" in response.json["message"]
    assert _versions(api, custom) == before


def test_ack_deletes_the_run_and_records_it_once(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    recorder: RecordingSink,
    kube: KubeEmulator,
) -> None:
    kube.stats.reset()
    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json
    assert kube.stats.snapshot() == {
        "get coderuns": 2,  # to authorize, and the 404 that confirms the deletion
        "get configmaps": 1,
        "delete coderuns": 1,
        "update configmaps": 1,
        "create events": 1,  # CancellationAcknowledged, after the lock (best-effort)
        "total": 6,
    }
    assert response.json["status"] == "acknowledged"
    assert response.json["cancellation"]["status"] == "gone"
    assert response.json["agents_stopped"] is None, "Tess has not stopped yet"
    assert support.coderun(custom, "cleo-12") is None
    state, _ = support.state(api)
    cleo = state.cancellations[f"{seed.AGENT_NS}/cleo-12"]
    assert cleo.status == "gone"
    assert cleo.outcome == "acknowledged by 5DLabs-Cleo; deleted, confirmed gone"
    assert state.cancellations[f"{seed.AGENT_NS}/tess-12"].status == "requested"
    assert state.history[-1].step == "control-api"
    assert state.history[-1].epoch == cancelling.epoch

    before = _versions(api, custom)
    again = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert again.status_code == 200, again.json
    assert again.json["status"] == "already-acknowledged"
    assert again.json["message"] == "already acknowledged (gone)"
    assert _versions(api, custom) == before
    assert support.sent(recorder) == []

    stranger = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Rex"))
    assert stranger.status_code == 403, "a gone run's record still names its agent"


def test_a_pending_deletion_is_acknowledged_and_repeats_write_nothing(
    control: Client,
    chain: dict[str, Any],
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: Any,
    recorder: RecordingSink,
) -> None:
    support.seed_task(custom, github, [("cleo-12", "5DLabs-Cleo", "Running")])
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": ["agents.platform/cleanup"]}},
    )  # fmt: skip
    support.remediate(chain)

    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json
    assert response.json["cancellation"]["status"] == "acknowledged"
    assert response.json["message"] == "acknowledged; the run is being deleted"
    run = support.coderun(custom, "cleo-12")
    assert run is not None and run["metadata"]["deletionTimestamp"]
    assert run["metadata"]["annotations"]["remedy.dev/cancel-acknowledged-at"]
    state, version = support.state(api)
    assert state.cancellations[f"{seed.AGENT_NS}/cleo-12"].status == "acknowledged"

    again = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert again.status_code == 200
    assert again.json["status"] == "already-acknowledged"
    assert support.coderun(custom, "cleo-12") == run
    assert support.state(api)[1] == version
    assert support.sent(recorder) == [], "not stopped until the deletion is confirmed"


def test_agents_stopped_is_announced_when_the_last_run_acks(
    control: Client,
    cancelling: support.Cancelled,
    chain: dict[str, Any],
    custom: client.CustomObjectsApi,
    recorder: RecordingSink,
) -> None:
    waiting = post(chain["workflow-resume"], cancelling.labelled)
    assert waiting.status_code == 202, "labels reset, agents still running: no resume yet"

    first = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert first.status_code == 200 and first.json["agents_stopped"] is None
    assert support.sent(recorder) == []

    last = control.post(support.ack_path("tess-12"), headers=support.auth("5DLabs-Tess[bot]"))
    assert last.status_code == 200, last.json
    [stopped] = support.sent(recorder)
    assert last.json["agents_stopped"] == {"id": stopped["id"], "sent": True}
    assert stopped["type"] == "dev.remedy.agents.stopped"
    assert stopped["source"] == "/remedy/control-api"
    assert stopped.get_data()["coderuns"] == ["cleo-12", "tess-12"]
    assert stopped.get_data()["epoch"] == cancelling.epoch
    assert stopped.get_data()["forced"] is False

    resumed = reply(chain["workflow-resume"], stopped)
    assert resumed["type"] == "dev.remedy.workflow.resumed"
    assert support.workflow_stage(custom) == "waiting-pr-created"


def test_a_refused_announcement_still_records_the_ack(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    recorder: RecordingSink,
) -> None:
    control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    recorder.status = 500
    last = control.post(support.ack_path("tess-12"), headers=support.auth("5DLabs-Tess[bot]"))
    assert last.status_code == 200
    assert last.json["agents_stopped"]["sent"] is False
    state, _ = support.state(api)
    assert state.all_stopped(cancelling.epoch)


@pytest.mark.parametrize(
    ("method", "path", "complaint"),
    [
        ("POST", "/v1/coderuns/Agent_Platform/cleo-12/cancellation/ack", "namespace"),
        ("POST", f"/v1/coderuns/{'a' * 64}/cleo-12/cancellation/ack", "namespace"),
        ("POST", "/v1/coderuns/agent-platform/Cleo-12/cancellation/ack", "CodeRun name"),
        ("POST", "/v1/coderuns/agent-platform/-cleo/cancellation/ack", "CodeRun name"),
        ("POST", f"/v1/coderuns/agent-platform/{'a' * 254}/cancellation/ack", "CodeRun name"),
        ("GET", "/v1/tasks/0", "outside 1..1000000"),
        ("GET", "/v1/tasks/1000001", "outside 1..1000000"),
        ("GET", "/v1/tasks/abc", "not a whole number"),
        ("GET", "/v1/tasks/-3", "not a whole number"),
        ("GET", "/v1/tasks/12.5/cancellations", "not a whole number"),
        ("POST", "/v1/tasks/99999999/cancellations", "not a whole number"),
    ],
)
def test_bad_identifiers_are_400(
    control: Client, control_env: dict[str, str], method: str, path: str, complaint: str
) -> None:
    response = control.open(path, method=method, headers=support.auth("operator:alice"))
    assert response.status_code == 400, response.json
    assert response.json["error"] == "bad_request"
    assert complaint in response.json["message"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/coderuns/agent-platform/cleo-12/cancellation/ack", "POST"),
        ("DELETE", "/v1/tasks/12", "GET"),
        ("POST", "/v1/tasks/12", "GET"),
        ("PUT", "/v1/tasks/12/cancellations", "GET, POST"),
    ],
)
def test_other_methods_are_405(
    control: Client, control_env: dict[str, str], method: str, path: str, allowed: str
) -> None:
    response = control.open(path, method=method, headers=support.auth("operator:alice"))
    assert response.status_code == 405
    assert response.json["error"] == "method_not_allowed"
    assert response.headers["Allow"] == allowed


@pytest.mark.parametrize(
    "path", ["/", "/v1", "/v2/tasks/12", "/v1/coderuns/agent-platform/cleo-12", "/v1/tasks/12/x"]
)
def test_unknown_paths_are_404(control: Client, control_env: dict[str, str], path: str) -> None:
    response = control.get(path, headers=support.auth("operator:alice"))
    assert response.status_code == 404
    assert response.json["error"] == "not_found"
    assert "docs/control-api.md" in response.json["message"]


def test_a_conflicting_change_is_reread_and_retried(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
) -> None:
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12",
        {"metadata": {"finalizers": ["agents.platform/cleanup"]}},
    )  # fmt: skip
    kube.faults.add("conflict", verb="patch", resource="coderuns", count=2)
    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json
    run = support.coderun(custom, "cleo-12")
    assert run is not None and run["metadata"]["annotations"]["remedy.dev/cancel-acknowledged-at"]
    cleo = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/cleo-12"]
    assert cleo.status == "acknowledged"


def test_an_apiserver_outage_on_delete_is_503_and_changes_nothing(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
) -> None:
    before = _versions(api, custom)
    kube.faults.add("status", status=503, verb="delete", resource="coderuns")
    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 503
    assert response.json["error"] == "retry_later"
    assert response.headers["Retry-After"] == "1"
    assert _versions(api, custom) == before
    kube.faults.clear()
    retried = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert retried.status_code == 200
    assert retried.json["status"] == "acknowledged"


def test_a_request_seen_only_on_the_run_is_acknowledged_and_recorded(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
) -> None:
    seed.coderun(custom, "cleo-12-b", task=support.TASK, agent="5DLabs-Cleo", phase="Running")
    custom.patch_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12-b",
        {"metadata": {"annotations": {
            "remedy.dev/cancel-requested-at": "2025-01-01T00:00:00.000000Z",
            "remedy.dev/cancel-epoch": str(cancelling.epoch),
            "remedy.dev/cancel-reason": "the spec changed",
            "remedy.dev/cancel-requested-by": "operator:alice",
        }}},
    )  # fmt: skip
    response = control.post(support.ack_path("cleo-12-b"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json
    recorded = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/cleo-12-b"]
    assert (recorded.status, recorded.epoch, recorded.for_head) == (
        "gone",
        cancelling.epoch,
        support.NEW,
    )
    assert (recorded.reason, recorded.requested_by) == ("the spec changed", "operator:alice")
    assert support.coderun(custom, "cleo-12-b") is None


def test_a_run_gone_before_its_ack_is_recorded_gone(
    control: Client,
    cancelling: support.Cancelled,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
) -> None:
    custom.delete_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], "cleo-12"
    )
    response = control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    assert response.status_code == 200, response.json
    assert response.json["status"] == "acknowledged"
    recorded = support.state(api)[0].cancellations[f"{seed.AGENT_NS}/cleo-12"]
    assert recorded.status == "gone"
    assert recorded.outcome == "acknowledged by 5DLabs-Cleo; it was already gone"


def test_a_second_stop_in_the_same_epoch_is_a_new_announcement(
    control: Client,
    cancelling: support.Cancelled,
    chain: dict[str, Any],
    custom: client.CustomObjectsApi,
    recorder: RecordingSink,
) -> None:
    """The push's agents stop; a person then cancels a new run in the same epoch: its stop
    is announced under a new id, so workflow-resume takes it instead of refusing the old
    id with another payload (422, dead-lettered)."""
    control.post(support.ack_path("cleo-12"), headers=support.auth("5DLabs-Cleo"))
    control.post(support.ack_path("tess-12"), headers=support.auth("5DLabs-Tess[bot]"))
    [first] = support.sent(recorder)
    assert post(chain["workflow-resume"], first).status_code in (200, 202)

    seed.coderun(custom, "cleo-12-b", task=support.TASK, agent="5DLabs-Cleo", phase="Running")
    asked = control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        json={"reason": "the spec changed"},
        headers=support.auth("operator:alice"),
    )
    assert asked.status_code == 202, asked.json
    requested = support.sent(recorder)[-1]
    assert post(chain["agent-cancel"], requested).status_code == 202
    control.post(support.ack_path("cleo-12-b"), headers=support.auth("5DLabs-Cleo"))
    second = support.sent(recorder)[-1]
    assert second["type"] == "dev.remedy.agents.stopped"
    assert second["id"] != first["id"]
    assert second.get_data()["coderuns"] == ["cleo-12", "cleo-12-b", "tess-12"]
    assert post(chain["workflow-resume"], second).status_code in (200, 202)
