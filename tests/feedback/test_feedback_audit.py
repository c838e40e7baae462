"""feedback-intake's audit trail: a counted remediation run, and the exhaustion.

Covers: Tess's "changes required" comment leaves RemediationRunStarted on Rex's new run
(its uid), CancellationRequested on Cleo's running run and
CancellationDeletedBeforeStart on Tess's pending one — each naming Tess and her
feedback, or feedback-intake and the iteration — and nothing on Rex's other run or
another task's; the same delivery again, and the same comment in another delivery,
write no Event; feedback past the maximum leaves one RemediationExhausted Warning on
the task's state ConfigMap and no run. Every Event matches the audit catalogue.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from tests.chain import seed
from tests.feedback import support
from tests.feedback.support import comment
from tests.support import audit
from tests.support.events import acked, reply

pytestmark = pytest.mark.usefixtures("agents")


def test_a_feedback_run_and_its_cancellations_are_recorded_once(
    app: Any, api: client.ApiClient, custom: client.CustomObjectsApi, pr: seed.PullRequestSeed
) -> None:
    feedback = comment(comment_id=501, number=pr.number)
    reply(app, feedback)

    seen = audit.catalogued(api)
    assert sorted(audit.summary(seen)) == [
        ("CancellationDeletedBeforeStart", "CodeRun", "tess-12", "feedback-intake"),
        ("CancellationRequested", "CodeRun", "cleo-12", "feedback-intake"),
        ("RemediationRunStarted", "CodeRun", "rex-remediation-t12-i1", "feedback-intake"),
    ]
    notes = {e.reason: e for e in seen}
    run = support.remediation_runs(custom)["rex-remediation-t12-i1"]
    started = notes["RemediationRunStarted"]
    assert started.uid == run["metadata"]["uid"]
    assert started.note == (
        "Task 12, epoch 1: created Rex's remediation run, iteration 1. Requested by "
        f"{support.TESS}: QA feedback comment:501 on PR #{pr.number}."
    )
    assert notes["CancellationRequested"].note.endswith(
        "Requested by remedy/feedback-intake: QA feedback comment:501: Rex remediation iteration 1."
    )

    reply(app, feedback)  # the same delivery again
    acked(app, comment(comment_id=501, number=pr.number))  # the same comment, redelivered
    assert audit.events(api) == seen


def test_feedback_past_the_maximum_is_one_warning_on_the_state_configmap(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    pr: seed.PullRequestSeed,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REMEDY_MAX_ITERATIONS", "1")
    reply(app, comment(comment_id=801, number=pr.number))
    before = len(audit.events(api))

    refused = comment(comment_id=802, number=pr.number)
    assert reply(app, refused)["type"] == "dev.remedy.remediation.exhausted"
    reply(app, refused)

    seen = audit.catalogued(api)[before:]
    assert audit.summary(seen) == [
        ("RemediationExhausted", "ConfigMap", "task-12-remediation-state", "feedback-intake")
    ]
    (exhausted,) = seen
    assert exhausted.type == "Warning"
    assert exhausted.note.startswith("Task 12, epoch 1: iteration 2 > max 1: no run; ")
    assert "a person must step in" in exhausted.note
    assert exhausted.note.endswith(
        f"Requested by {support.TESS}: QA feedback comment:802 on PR #{pr.number}."
    )
    cm = client.CoreV1Api(api).read_namespaced_config_map(
        "task-12-remediation-state", seed.STATE_NS
    )
    assert exhausted.uid == cm.metadata.uid
    assert len(support.remediation_runs(custom)) == 1
