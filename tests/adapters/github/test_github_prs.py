"""The PullRequests adapter against the GitHub emulator: what it finds, what it changes,
and how many requests that takes.

Behaviours covered:
- ``find_open`` by head branch is exactly one ``GET .../pulls`` (``head=owner:branch``,
  state open); other branches and closed PRs are not matches;
- when no PR has that head, one more read: open items labelled ``task-<id>``, PRs only
  (a newer plain issue with the label is skipped); nothing anywhere is None after
  exactly those two reads;
- ``remove_label``: a present label is removed with one DELETE (True); an absent one
  is GitHub's 404 and False, and nothing changes;
- label names with ``/``, spaces, ``%``, ``?``/``#``, emoji and other unicode go on the
  wire fully percent-encoded (``/`` as ``%2F``) and remove exactly that label;
- ``add_labels``: one POST adds every name, creating missing repository labels; a
  present one is left alone; duplicates are sent once; an empty list sends nothing;
- bad arguments (repository, branch, task id, PR number, label) raise
  ``InvalidIdentifier`` before any request;
- a PR or repository that does not exist is ``GitHubNotFound`` (a ``Rejected``);
- one client shared by 8 threads: every write lands, requests counted exactly.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest

from remedy.adapters.github.errors import GitHubNotFound
from remedy.adapters.github.prs import PullRequestsClient
from remedy.domain.identifiers import InvalidIdentifier
from remedy.local.emulators.github.records import RepoRef
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.ports import PullRequests, Rejected

from .conftest import DEMO, OWNER, REPO, OpenPull

PULLS = "GET /repos/{owner}/{repo}/pulls"
ISSUES = "GET /repos/{owner}/{repo}/issues"
DELETE = "DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}"
POST = "POST /repos/{owner}/{repo}/issues/{number}/labels"


def labels_of(emulator: GitHubEmulator, repo: RepoRef, number: int) -> list[str]:
    return [label.name for label in emulator.model.labels.on_issue(repo.issue(number))]


def test_the_client_fits_the_port(client: PullRequestsClient) -> None:
    port: PullRequests = client
    assert port is client


def test_find_open_by_head_branch_is_one_request(
    client: PullRequestsClient, emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    open_pull("feature/task-6")
    wanted = open_pull("feature/task-7")
    open_pull("feature/task-8")
    assert client.find_open(REPO, branch="feature/task-7", task_id=7) == wanted
    assert emulator.stats == {PULLS: 1}
    assert client.requests_made == 1


def test_closed_pull_on_the_branch_is_not_a_match(
    client: PullRequestsClient, emulator: GitHubEmulator, repo: RepoRef, open_pull: OpenPull
) -> None:
    closed = open_pull("task-7")
    emulator.model.pulls.update(repo.issue(closed), state="closed")
    assert client.find_open(REPO, branch="task-7", task_id=7) is None


def test_falls_back_to_the_task_label_with_one_more_read(
    client: PullRequestsClient, emulator: GitHubEmulator, repo: RepoRef, open_pull: OpenPull
) -> None:
    labelled = open_pull("renamed-branch", labels=["task-7", "ready-for-qa"])
    open_pull("other", labels=["task-8"])
    emulator.model.issues.create(repo, title="newer plain issue", actor=OWNER, labels=["task-7"])
    assert client.find_open(REPO, branch="feature/task-7", task_id=7) == labelled
    assert emulator.stats == {PULLS: 1, ISSUES: 1}
    assert client.requests_made == 2


def test_no_pull_anywhere_is_none_after_two_reads(
    client: PullRequestsClient, emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    open_pull("feature/task-8", labels=["task-8"])
    assert client.find_open(REPO, branch="feature/task-7", task_id=7) is None
    assert emulator.stats == {PULLS: 1, ISSUES: 1}


def test_remove_present_label_is_one_delete(
    client: PullRequestsClient, emulator: GitHubEmulator, repo: RepoRef, open_pull: OpenPull
) -> None:
    number = open_pull("task-7", labels=["ready-for-qa", "keep"])
    emulator.model.clear_timeline()
    assert client.remove_label(REPO, number, "ready-for-qa") is True
    assert labels_of(emulator, repo, number) == ["keep"]
    assert emulator.stats == {DELETE: 1}
    assert emulator.timeline == [f"{REPO}#{number}:-label:ready-for-qa"]


def test_remove_absent_label_is_false_and_changes_nothing(
    client: PullRequestsClient, emulator: GitHubEmulator, repo: RepoRef, open_pull: OpenPull
) -> None:
    number = open_pull("task-7", labels=["keep"])
    emulator.model.clear_timeline()
    assert client.remove_label(REPO, number, "ready-for-qa") is False
    assert client.remove_label(REPO, number, "bug") is False  # a repository label, not on the PR
    assert labels_of(emulator, repo, number) == ["keep"]
    assert emulator.stats == {DELETE: 2}
    assert emulator.timeline == []


@pytest.mark.parametrize(
    "label", ["area/ci", "a/b/c", "needs review", "🔴 blocked", "100%", "x?y#z", "ünïcødé"]
)
def test_awkward_label_names_are_fully_encoded_and_remove_only_that_label(
    client: PullRequestsClient,
    emulator: GitHubEmulator,
    open_pull: OpenPull,
    raw_targets: list[str],
    label: str,
) -> None:
    number = open_pull("task-7", labels=[label, "area", "ci"])
    emulator.model.clear_timeline()
    raw_targets.clear()
    assert client.remove_label(REPO, number, label) is True
    encoded = quote(label, safe="")
    assert raw_targets == [f"/repos/{REPO}/issues/{number}/labels/{encoded}"]
    assert "/" not in encoded
    assert emulator.timeline == [f"{REPO}#{number}:-label:{label}"]
    assert labels_of(emulator, DEMO, number) == ["area", "ci"]


def test_add_labels_is_one_post_and_creates_missing_labels(
    client: PullRequestsClient, emulator: GitHubEmulator, repo: RepoRef, open_pull: OpenPull
) -> None:
    number = open_pull("task-7", labels=["keep"])
    emulator.model.clear_timeline()
    client.add_labels(REPO, number, ["remediation-in-progress", "keep", "area/ci", "area/ci"])
    assert sorted(labels_of(emulator, repo, number)) == [
        "area/ci",
        "keep",
        "remediation-in-progress",
    ]
    assert emulator.model.labels.get(repo, "remediation-in-progress").color == "ededed"
    assert emulator.stats == {POST: 1}
    assert sorted(emulator.timeline) == [
        f"{REPO}#{number}:+label:area/ci",
        f"{REPO}#{number}:+label:remediation-in-progress",
        f"{REPO}:+repolabel:area/ci",
        f"{REPO}:+repolabel:remediation-in-progress",
    ]


def test_adding_nothing_sends_nothing(
    client: PullRequestsClient, emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    client.add_labels(REPO, open_pull("task-7"), [])
    assert emulator.stats == {}
    assert client.requests_made == 0


@pytest.mark.parametrize(
    ("call", "complaint"),
    [
        (lambda c: c.find_open("not-a-repo", branch="task-7", task_id=7), "repository"),
        (lambda c: c.find_open("o/r/x", branch="task-7", task_id=7), "repository"),
        (lambda c: c.find_open(REPO, branch="bad branch", task_id=7), "branch"),
        (lambda c: c.find_open(REPO, branch="a..b", task_id=7), "branch"),
        (lambda c: c.find_open(REPO, branch="", task_id=7), "branch"),
        (lambda c: c.find_open(REPO, branch="task-7", task_id=0), "task id"),
        (lambda c: c.remove_label(REPO, 0, "ready-for-qa"), "number"),
        (lambda c: c.remove_label(REPO, True, "ready-for-qa"), "number"),
        (lambda c: c.remove_label(REPO, 1, ""), "label"),
        (lambda c: c.remove_label(REPO, 1, "x" * 51), "label"),
        (lambda c: c.remove_label(REPO, 1, "new\nline"), "label"),
        (lambda c: c.add_labels(REPO, 1, ["ok", " "]), "label"),
        (lambda c: c.add_labels(REPO, 1, "remediation-in-progress"), "labels"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    client: PullRequestsClient, emulator: GitHubEmulator, call: object, complaint: str
) -> None:
    with pytest.raises(InvalidIdentifier, match=complaint):
        call(client)  # type: ignore[operator]
    assert emulator.stats == {}
    assert client.requests_made == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.add_labels(REPO, 99, ["remediation-in-progress"]),
        lambda c: c.add_labels(f"{OWNER}/absent", 1, ["remediation-in-progress"]),
        lambda c: c.find_open(f"{OWNER}/absent", branch="task-7", task_id=7),
    ],
)
def test_missing_pull_or_repository_is_rejected(
    client: PullRequestsClient, repo: RepoRef, call: object
) -> None:
    with pytest.raises(
        GitHubNotFound, match="does not exist or GITHUB_TOKEN cannot see it"
    ) as raised:
        call(client)  # type: ignore[operator]
    assert isinstance(raised.value, Rejected)
    assert raised.value.status == 422


def test_one_client_serves_many_threads(
    client: PullRequestsClient, emulator: GitHubEmulator, open_pull: OpenPull
) -> None:
    numbers = [open_pull(f"task-{n}", labels=["ready-for-qa"]) for n in range(1, 9)]
    start = threading.Barrier(len(numbers))
    removed: dict[int, bool] = {}

    def remediate(number: int) -> None:
        start.wait(timeout=5)
        removed[number] = client.remove_label(REPO, number, "ready-for-qa")
        client.add_labels(REPO, number, ["remediation-in-progress"])

    with ThreadPoolExecutor(max_workers=len(numbers)) as pool:
        list(pool.map(remediate, numbers))
    assert removed == dict.fromkeys(numbers, True)
    for number in numbers:
        assert labels_of(emulator, DEMO, number) == ["remediation-in-progress"]
    assert client.requests_made == 2 * len(numbers)
    assert emulator.stats == {DELETE: len(numbers), POST: len(numbers)}
