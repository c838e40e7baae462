"""The feedback loop and stage-aware resumes, end to end: gateway → broker → functions.

Covers, on the local platform with signed webhooks: a Tess feedback comment creates exactly
one Rex remediation run (iteration 1) and moves the labels (ready-for-qa off: the labels
after are exactly task-<id>, remediation-in-progress, iteration-<n>); the same delivery
twice and two different comments in quick succession give iterations 1 and 2 and no extra
runs; a review with changes_requested counts as feedback and moves the labels the same
way; the eleventh feedback (default maximum 10) makes no run, marks the PR
failed-remediation and takes ready-for-qa off; an approval that arrives before the workflow
reached waiting-pr-approved resumes it when it gets there (the reconciler applies the kept
event); ready-for-qa added by a person does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.harness import POLL_S, Harness, rex_runs
from tests.chaos.webhooks import comment_body, review_body, send_webhook
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

MARKER = "### 🔴 Required Changes\n- fix the login flow"
TESS = "5DLabs-Tess[bot]"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    harness = Harness.start(
        tmp_path_factory.mktemp("feedback"),
        function_env={"REMEDY_CANCEL_GRACE_SECONDS": "2", "REMEDY_FORCE_GRACE_SECONDS": "0"},
    )
    yield harness
    harness.stop()


def feedback(platform: Harness, *, task: int, pr: int, comment_id: int, delivery: str) -> None:
    payload = comment_body(task=task, pr=pr, comment_id=comment_id, author=TESS, body=MARKER)
    assert send_webhook(platform, event="issue_comment", payload=payload, delivery=delivery) == 202


def iterations(platform: Harness, task: int) -> list[int]:
    runs = rex_runs(platform, task).values()
    return sorted(int(run["metadata"]["labels"]["remediation-iteration"]) for run in runs)


def test_feedback_comments_start_counted_rex_runs(platform: Harness) -> None:
    pr = platform.seed_task(201)
    feedback(platform, task=201, pr=pr, comment_id=9001, delivery="fb-201-1")
    eventually(
        lambda: iterations(platform, 201) == [1], timeout=20, every=POLL_S, what="iteration 1's run"
    )
    after = {"task-201", "remediation-in-progress", "iteration-1"}  # QA took ready-for-qa off
    eventually(
        lambda: platform.labels(pr) == after, timeout=10, every=POLL_S, what="the run's labels"
    )

    feedback(platform, task=201, pr=pr, comment_id=9001, delivery="fb-201-1")  # same delivery
    feedback(platform, task=201, pr=pr, comment_id=9002, delivery="fb-201-2")
    feedback(platform, task=201, pr=pr, comment_id=9003, delivery="fb-201-3")
    eventually(
        lambda: iterations(platform, 201) == [1, 2, 3],
        timeout=20,
        every=POLL_S,
        what="iterations 2, 3",
    )
    after = {"task-201", "remediation-in-progress", "iteration-3"}
    eventually(
        lambda: platform.labels(pr) == after, timeout=10, every=POLL_S, what="iteration 3's labels"
    )
    state = platform.remediation(201)
    assert state is not None and state.iteration == 3


def test_a_changes_requested_review_counts_as_feedback(platform: Harness) -> None:
    pr = platform.seed_task(202)
    payload = review_body(task=202, pr=pr, review_id=7001, author=TESS, state="changes_requested")
    assert (
        send_webhook(platform, event="pull_request_review", payload=payload, delivery="rv-202-1")
        == 202
    )
    eventually(
        lambda: iterations(platform, 202) == [1], timeout=20, every=POLL_S, what="the review's run"
    )
    after = {"task-202", "remediation-in-progress", "iteration-1"}
    eventually(
        lambda: platform.labels(pr) == after, timeout=10, every=POLL_S, what="the review's labels"
    )


def test_the_eleventh_feedback_is_refused_and_marks_the_pr(platform: Harness) -> None:
    pr = platform.seed_task(203)
    for n in range(1, 11):
        feedback(platform, task=203, pr=pr, comment_id=9100 + n, delivery=f"fb-203-{n}")
    eventually(
        lambda: len(iterations(platform, 203)) == 10, timeout=40, every=POLL_S, what="ten runs"
    )
    feedback(platform, task=203, pr=pr, comment_id=9111, delivery="fb-203-11")
    eventually(
        lambda: "failed-remediation" in platform.labels(pr),
        timeout=20,
        every=POLL_S,
        what="failed-remediation",
    )
    assert "ready-for-qa" not in platform.labels(pr)
    assert len(iterations(platform, 203)) == 10
    state = platform.remediation(203)
    assert state is not None and state.human_intervention_required


def test_an_early_approval_resumes_the_workflow_when_it_gets_there(platform: Harness) -> None:
    pr = platform.seed_task(204)  # suspended at waiting-ready-for-qa
    approval = review_body(task=204, pr=pr, review_id=7100, author=TESS, state="approved")
    assert (
        send_webhook(platform, event="pull_request_review", payload=approval, delivery="ap-204-1")
        == 202
    )
    eventually(
        lambda: bool((s := platform.remediation(204)) and s.kept_stage_resumes),
        timeout=20,
        every=POLL_S,
        what="the approval to be kept",
    )
    assert _running_suspends(platform, 204) == ["waiting-ready-for-qa"]

    # the template moves on: the QA wait ends and the workflow suspends at waiting-pr-approved
    workflow = platform.workflow(204)
    for node in workflow["status"]["nodes"].values():
        node["phase"] = "Succeeded"
    workflow["metadata"]["labels"]["current-stage"] = "waiting-pr-approved"
    workflow["status"]["nodes"]["wait-approved"] = {
        "id": "wait-approved",
        "type": "Suspend",
        "phase": "Running",
        "inputs": {"parameters": [{"name": "stage-name", "value": "waiting-pr-approved"}]},
    }
    platform.custom.replace_namespaced_custom_object(
        "argoproj.io", "v1alpha1", "argo", "workflows", "play-task-204", workflow
    )
    eventually(
        lambda: _running_suspends(platform, 204) == [],
        timeout=20,
        every=POLL_S,
        what="the kept approval to resume the workflow",
    )
    node = platform.workflow(204)["status"]["nodes"]["wait-approved"]
    assert node["message"].startswith("Resumed by: remedy (waiting-pr-approved")


def test_ready_for_qa_added_by_a_person_does_nothing(platform: Harness) -> None:
    pr = platform.seed_task(205)
    payload = review_body(task=205, pr=pr, review_id=0, author="octocat", state="")
    payload.pop("review")
    payload.update(action="labeled", label={"name": "ready-for-qa"}, number=pr)
    version = platform.workflow(205)["metadata"]["resourceVersion"]
    assert send_webhook(platform, event="pull_request", payload=payload, delivery="lb-205-1") == 202
    cleo = dict(payload, sender={"login": "5DLabs-Cleo[bot]"})
    assert send_webhook(platform, event="pull_request", payload=cleo, delivery="lb-205-2") == 202
    eventually(
        lambda: _running_suspends(platform, 205) == [],
        timeout=20,
        every=POLL_S,
        what="Cleo's label to resume the workflow",
    )
    history = (platform.remediation(205) or pytest.fail("no state")).history
    assert [e.delivery for e in history if e.step == "workflow-resume"] == ["lb-205-2"]
    assert platform.workflow(205)["metadata"]["resourceVersion"] != version


def _running_suspends(platform: Harness, task: int) -> list[str]:
    nodes = platform.workflow(task)["status"]["nodes"].values()
    return [
        node["inputs"]["parameters"][0]["value"]
        for node in nodes
        if node.get("type") == "Suspend" and node.get("phase") == "Running"
    ]


def test_module_uses_a_temporary_platform(platform: Harness, tmp_path: Path) -> None:
    """The platform's state file lives in pytest's temporary directory, not the repo."""
    assert not str(platform.platform.workdir).startswith(str(Path.cwd() / ".remedy"))
