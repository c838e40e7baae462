"""feedback-intake's label writes and what they cost, counted by the GitHub emulator.

Covers: the exact GitHub requests of one feedback (iteration 1: DELETE ready-for-qa +
POST; from iteration 2: one DELETE more for iteration-<n-1>; past the maximum: DELETE
ready-for-qa + POST failed-remediation; one GET more for a comment whose labels name
no task; a review like a comment; nothing for the same delivery again or the same
comment in another delivery); QA feedback takes ready-for-qa off (the labels after are
exactly task, remediation-in-progress, iteration-<n>), in the documented order; a
ready-for-qa already gone (GitHub's 404) is fine; every label of REMEDY_LABELS_REMOVE
comes off, as label-update's do; a failure after the removal was recorded is retried
without removing again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.feedback import support
from tests.feedback.support import comment, review
from tests.support.events import post, reply

pytestmark = pytest.mark.usefixtures("agents")

LABELS = "/repos/{owner}/{repo}/issues/{number}/labels"
ADD = f"POST {LABELS}"
REMOVE = f"DELETE {LABELS}/{{name}}"
READ = "GET /repos/{owner}/{repo}/pulls/{number}"
AFTER_FIRST = {"task-12", "remediation-in-progress", "iteration-1"}

Feedback = Callable[[int], CloudEvent]


def _comment(comment_id: int, **options: Any) -> Feedback:
    return lambda number: comment(comment_id=comment_id, number=number, **options)


@dataclass(frozen=True)
class Cost:
    name: str
    before: list[Feedback]
    feedback: Feedback
    requests: dict[str, int]
    labels: set[str] = field(default_factory=set)
    maximum: int | None = None


_COSTS = [
    Cost("iteration 1", [], _comment(601), {REMOVE: 1, ADD: 1}, AFTER_FIRST),
    Cost(
        "iteration 2",
        [_comment(601)],
        _comment(602),
        {REMOVE: 2, ADD: 1},  # ready-for-qa (already gone: 404) and iteration-1
        {"task-12", "remediation-in-progress", "iteration-2"},
    ),
    Cost(
        "iteration 3",
        [_comment(601), _comment(602)],
        _comment(603),
        {REMOVE: 2, ADD: 1},
        {"task-12", "remediation-in-progress", "iteration-3"},
    ),
    Cost(
        "comment without a task label",
        [],
        _comment(601, labels=()),
        {READ: 1, REMOVE: 1, ADD: 1},
        AFTER_FIRST,
    ),
    Cost(
        "changes_requested review",
        [],
        lambda number: review(review_id=701, number=number),
        {REMOVE: 1, ADD: 1},
        AFTER_FIRST,
    ),
    Cost(
        "past the maximum",
        [_comment(601)],
        _comment(602),
        {REMOVE: 1, ADD: 1},
        AFTER_FIRST | {"failed-remediation"},
        maximum=1,
    ),
    Cost(
        "the same delivery again",
        [_comment(601, delivery_id="fb-601")],
        _comment(601, delivery_id="fb-601"),
        {},
        AFTER_FIRST,
    ),
    Cost("the same comment in another delivery", [_comment(601)], _comment(601), {}, AFTER_FIRST),
]


@pytest.mark.parametrize("cost", _COSTS, ids=[c.name for c in _COSTS])
def test_the_github_requests_of_one_feedback(
    app: Any,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
    monkeypatch: pytest.MonkeyPatch,
    cost: Cost,
) -> None:
    if cost.maximum is not None:
        monkeypatch.setenv("REMEDY_MAX_ITERATIONS", str(cost.maximum))
    for earlier in cost.before:
        reply(app, earlier(pr.number))
    github.backend.stats.reset()

    response = post(app, cost.feedback(pr.number))

    assert response.status_code in (200, 202), response.get_data(as_text=True)
    assert github.backend.stats.requests() == cost.requests
    assert seed.pr_labels(github, pr) == cost.labels


def test_qa_feedback_takes_ready_for_qa_off_in_the_documented_order(
    app: Any, github: GitHubEmulator, pr: seed.PullRequestSeed
) -> None:
    github.model.clear_timeline()

    reply(app, comment(comment_id=611, number=pr.number))
    reply(app, comment(comment_id=612, number=pr.number))

    on_pr = [entry for entry in github.timeline if entry.startswith(f"{seed.REPO}#{pr.number}:")]
    assert [entry.split(":", 1)[1] for entry in on_pr] == [
        "-label:ready-for-qa",
        "+label:remediation-in-progress",
        "+label:iteration-1",
        "+label:iteration-2",  # ready-for-qa already gone: a 404, no effect
        "-label:iteration-1",
    ]
    assert seed.pr_labels(github, pr) == {"task-12", "remediation-in-progress", "iteration-2"}


def test_ready_for_qa_already_gone_is_fine(app: Any, api: Any, github: GitHubEmulator) -> None:
    pr = seed.pull_request(github, branch=support.BRANCH, labels=["task-12"])
    github.backend.stats.reset()

    answer = reply(app, comment(comment_id=621, number=pr.number))

    assert support.data_of(answer)["iteration"] == 1
    snapshot = github.backend.stats.snapshot()
    assert snapshot["requests"] == {REMOVE: 1, ADD: 1}
    assert snapshot["statuses"] == {"200": 1, "404": 1}
    assert seed.pr_labels(github, pr) == AFTER_FIRST
    saved = support.state(api)
    assert saved is not None
    note = f"PR #{pr.number}: -[] +['remediation-in-progress', 'iteration-1']"
    assert any(note in event.outcome for event in saved.history)


def test_every_label_label_update_removes_comes_off(
    app: Any, github: GitHubEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REMEDY_LABELS_REMOVE", "ready-for-qa, qa-in-progress")
    pr = seed.pull_request(
        github, branch=support.BRANCH, labels=["task-12", "ready-for-qa", "qa-in-progress"]
    )
    github.backend.stats.reset()

    reply(app, comment(comment_id=631, number=pr.number))

    assert github.backend.stats.requests() == {REMOVE: 2, ADD: 1}
    assert seed.pr_labels(github, pr) == AFTER_FIRST


def test_a_failure_after_the_removal_is_retried_without_removing_again(
    app: Any, api: Any, github: GitHubEmulator, pr: seed.PullRequestSeed
) -> None:
    # every attempt of the add fails (the adapter tries 3 times): the delivery fails after
    # ready-for-qa came off and that removal was recorded
    github.backend.faults.add(Fault(status=503, method="POST", endpoint=LABELS, count=3))
    github.model.clear_timeline()
    github.backend.stats.reset()
    feedback = comment(comment_id=641, number=pr.number)

    failed = post(app, feedback)

    assert failed.status_code == 503, failed.get_data(as_text=True)
    assert seed.pr_labels(github, pr) == {"task-12"}
    assert github.backend.stats.requests() == {REMOVE: 1, ADD: 3}

    retried = reply(app, feedback)

    assert support.data_of(retried)["iteration"] == 1
    assert github.backend.stats.requests() == {REMOVE: 1, ADD: 4}
    assert github.timeline.count(f"{seed.REPO}#{pr.number}:-label:ready-for-qa") == 1
    assert seed.pr_labels(github, pr) == AFTER_FIRST
    saved = support.state(api)
    assert saved is not None
    assert saved.iteration == 1
    assert any("-['ready-for-qa']" in e.outcome for e in saved.history)
