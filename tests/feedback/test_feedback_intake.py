"""feedback-intake on the emulated platform, driven as functions-framework serves it.

Covers: a Tess comment with the marker on a PR creates exactly one Rex run (the CRD's
required fields, iteration 1, the labels and env the issue asks for), cancels Tess's
and Cleo's runs and leaves Rex's and another task's alone, and moves the PR's labels
(-ready-for-qa +remediation-in-progress +iteration-1); the same delivery twice replays
the same reply with no second run; a second comment is iteration 2 (iteration-1 label
dropped); the same comment in another delivery is a duplicate; a changes_requested
review counts, its task found by label or by head branch; a comment whose PR has no
task label gets its task from one read of the PR; GitHubSource's struct (no
issue.pull_request) is recognised by its URL; structured-mode events work; the
feedback past the maximum (3, and the default 10) makes no run, labels the PR
failed-remediation and records that a person must step in; everything that is not
feedback is acknowledged with no effect; malformed events are rejected with 400.
"""

from __future__ import annotations

from typing import Any

import pytest
from cloudevents.conversion import to_structured
from kubernetes import client

from remedy.domain import agents
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.feedback import support
from tests.feedback.support import comment, review
from tests.support.events import acked, post, reply

pytestmark = pytest.mark.usefixtures("agents")


def test_a_feedback_comment_creates_one_rex_run_cancels_review_work_and_labels_the_pr(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
) -> None:
    answer = reply(app, comment(comment_id=501, number=pr.number))

    assert answer["type"] == "dev.remedy.remediation.started"
    data = support.data_of(answer)
    assert (data["iteration"], data["coderun"], data["feedback_id"]) == (
        1,
        "rex-remediation-t12-i1",
        501,
    )
    assert (data["feedback_type"], data["task_id"], data["pr_number"]) == ("comment", 12, pr.number)
    assert answer["id"] == f"{answer['correlationid']}:remediation.started"
    runs = support.remediation_runs(custom)
    assert list(runs) == ["rex-remediation-t12-i1"]
    run = runs["rex-remediation-t12-i1"]
    assert run["metadata"]["labels"] == {
        "task-id": "12",
        "pr-number": str(pr.number),
        "trigger-type": "qa-feedback",
        "remediation-iteration": "1",
        "github-app": "5DLabs-Rex",
    }
    spec = run["spec"]
    assert (spec["githubApp"], spec["taskId"], spec["continueSession"]) == ("5DLabs-Rex", 12, True)
    assert spec["env"] == {
        "REMEDIATION_MODE": "true",
        "FEEDBACK_ID": "501",
        "FEEDBACK_TYPE": "comment",
        "ITERATION_COUNT": "1",
        "PR_NUMBER": str(pr.number),
    }
    assert spec["repositoryUrl"] == f"https://github.com/{seed.REPO}"
    assert (spec["service"], spec["workingDirectory"]) == ("cto", ".")
    # Tess had not started: deleted; Cleo running: asked to stop; Rex and task 13 untouched
    assert support.coderun(custom, "tess-12") is None
    cleo = support.coderun(custom, "cleo-12") or {}
    assert cleo["metadata"]["annotations"][agents.CANCEL_REQUESTED_BY] == "remedy/feedback-intake"
    for untouched in ("rex-12", "cleo-13"):
        annotations = (support.coderun(custom, untouched) or {})["metadata"].get("annotations")
        assert agents.CANCEL_REQUESTED_AT not in (annotations or {})
    assert seed.pr_labels(github, pr) == {"task-12", "remediation-in-progress", "iteration-1"}
    saved = support.state(api)
    assert saved is not None
    assert (saved.iteration, saved.feedback_ids, saved.pr_number) == (1, ["comment:501"], pr.number)
    assert not saved.human_intervention_required
    assert set(saved.cancellations) == {f"{seed.AGENT_NS}/cleo-12", f"{seed.AGENT_NS}/tess-12"}


def test_duplicates_change_nothing_and_a_second_comment_is_iteration_two(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
) -> None:
    first = comment(comment_id=601, number=pr.number)
    one = reply(app, first)
    again = reply(app, first)  # the same delivery redelivered
    assert (again["id"], support.data_of(again)) == (one["id"], support.data_of(one))

    two = reply(app, comment(comment_id=602, number=pr.number))
    assert support.data_of(two)["iteration"] == 2
    acked(app, comment(comment_id=601, number=pr.number))  # same comment, another delivery

    assert set(support.remediation_runs(custom)) == {
        "rex-remediation-t12-i1",
        "rex-remediation-t12-i2",
    }
    labels = seed.pr_labels(github, pr)
    assert {"remediation-in-progress", "iteration-2"} <= labels
    assert "iteration-1" not in labels
    saved = support.state(api)
    assert saved is not None
    assert (saved.iteration, saved.feedback_ids) == (2, ["comment:601", "comment:602"])


@pytest.mark.parametrize(
    ("case", "event_for"),
    [
        ("label", lambda n: review(review_id=701, number=n)),
        ("head branch", lambda n: review(review_id=702, number=n, labels=())),
        ("upper-case state", lambda n: review(review_id=703, number=n, state="CHANGES_REQUESTED")),
    ],
)
def test_a_changes_requested_review_counts_as_feedback(
    app: Any, custom: client.CustomObjectsApi, pr: seed.PullRequestSeed, case: str, event_for: Any
) -> None:
    answer = reply(app, event_for(pr.number))

    data = support.data_of(answer)
    assert (data["feedback_type"], data["iteration"], data["task_id"]) == ("review", 1, 12), case
    assert data["head_sha"] == support.HEAD
    run = support.remediation_runs(custom)["rex-remediation-t12-i1"]
    assert run["spec"]["env"]["FEEDBACK_TYPE"] == "review"
    assert run["spec"]["env"]["FEEDBACK_ID"] == str(data["feedback_id"])


def test_a_comment_without_a_task_label_reads_the_pr_head_once(
    app: Any, custom: client.CustomObjectsApi, github: GitHubEmulator, pr: seed.PullRequestSeed
) -> None:
    github.backend.stats.reset()
    answer = reply(app, comment(comment_id=801, number=pr.number, labels=()))

    assert support.data_of(answer)["task_id"] == 12
    reads = github.backend.stats.requests().get("GET /repos/{owner}/{repo}/pulls/{number}")
    assert reads == 1
    assert "rex-remediation-t12-i1" in support.remediation_runs(custom)


@pytest.mark.parametrize("mode", ["github-source struct", "structured"])
def test_either_form_of_the_event_is_read(
    app: Any, custom: client.CustomObjectsApi, pr: seed.PullRequestSeed, mode: str
) -> None:
    if mode == "structured":
        headers, body = to_structured(comment(comment_id=901, number=pr.number))
        response = app.post("/", data=body, headers=headers)
    else:
        response = post(app, comment(comment_id=901, number=pr.number, github_source=True))

    assert response.status_code == 200, response.get_data(as_text=True)
    assert list(support.remediation_runs(custom)) == ["rex-remediation-t12-i1"]


@pytest.mark.parametrize("maximum", [3, None])
def test_feedback_past_the_maximum_makes_no_run_and_marks_the_pr(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
    monkeypatch: pytest.MonkeyPatch,
    maximum: int | None,
) -> None:
    if maximum is not None:
        monkeypatch.setenv("REMEDY_MAX_ITERATIONS", str(maximum))
    limit = maximum or 10
    for n in range(1, limit + 1):
        counted = reply(app, comment(comment_id=1000 + n, number=pr.number))
        assert support.data_of(counted)["iteration"] == n
    assert "failed-remediation" not in seed.pr_labels(github, pr)

    refused = reply(app, comment(comment_id=2000, number=pr.number))

    assert refused["type"] == "dev.remedy.remediation.exhausted"
    data = support.data_of(refused)
    assert (data["iteration"], data["max_iterations"], data["feedback_id"]) == (
        limit + 1,
        limit,
        2000,
    )
    assert len(support.remediation_runs(custom)) == limit
    assert f"rex-remediation-t12-i{limit + 1}" not in support.remediation_runs(custom)
    assert "failed-remediation" in seed.pr_labels(github, pr)
    saved = support.state(api)
    assert saved is not None
    assert saved.human_intervention_required
    assert saved.iteration == limit + 1
    assert any("human intervention required" in event.outcome for event in saved.history)


_IGNORED = [
    ("edited comment", lambda n: comment(comment_id=5, number=n, action="edited"), "edited"),
    ("deleted comment", lambda n: comment(comment_id=5, number=n, action="deleted"), "deleted"),
    ("other author", lambda n: comment(comment_id=5, number=n, author="octocat"), "not a QA"),
    ("rex", lambda n: comment(comment_id=5, number=n, author="5DLabs-Rex[bot]"), "not a QA"),
    ("plain issue", lambda n: comment(comment_id=5, number=n, on_pull_request=False), "issue"),
    ("no marker", lambda n: comment(comment_id=5, number=n, body="Looks good"), "does not carry"),
    ("approved review", lambda n: review(review_id=5, number=n, state="approved"), "approved"),
    ("commented review", lambda n: review(review_id=5, number=n, state="commented"), "commented"),
    ("review by other", lambda n: review(review_id=5, number=n, author="octocat"), "not a QA"),
    ("dismissed review", lambda n: review(review_id=5, number=n, action="dismissed"), "dismissed"),
    ("no task", lambda n: review(review_id=5, number=n, labels=(), branch="main"), "no task"),
]


@pytest.mark.parametrize(("case", "event_for", "reason"), _IGNORED, ids=[c[0] for c in _IGNORED])
def test_what_is_not_feedback_is_acknowledged_and_changes_nothing(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
    caplog: pytest.LogCaptureFixture,
    case: str,
    event_for: Any,
    reason: str,
) -> None:
    before = seed.pr_labels(github, pr)
    caplog.set_level("INFO")

    acked(app, event_for(pr.number))

    assert any(reason in record.getMessage() for record in caplog.records), case
    assert support.remediation_runs(custom) == {}
    assert support.state(api) is None
    assert seed.pr_labels(github, pr) == before
    assert support.coderun(custom, "tess-12") is not None


@pytest.mark.parametrize(
    ("case", "ce", "message"),
    [
        ("not a comment", support.event("push", {"ref": "refs/heads/main"}), "comment and review"),
        (
            "comment without id",
            support.event("issue_comment", {"action": "created", "issue": {"number": 1}}),
            "comment",
        ),
        (
            "review with bad number",
            support.event(
                "pull_request_review",
                {"action": "submitted", "review": {"id": 1}, "pull_request": {"number": -4}},
            ),
            "pull_request.number",
        ),
    ],
)
def test_malformed_events_are_rejected_with_a_reason(
    app: Any, custom: client.CustomObjectsApi, case: str, ce: Any, message: str
) -> None:
    response = post(app, ce)

    assert response.status_code == 400, case
    assert message in response.get_json()["message"]
    assert support.remediation_runs(custom) == {}
