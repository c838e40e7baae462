"""Labels through PyGithub and raw HTTP: the calls remedy's label updates make.

Behaviours covered:
- add: missing repository labels are created with color ``ededed``; the answer is
  200 with the issue's full label list; adding a present label changes nothing;
- set (PUT) replaces the list; remove-all (DELETE) answers 204 and empties it;
- remove one: 200 with the labels that remain; 404 ``Label does not exist`` (a
  ``GithubException``) when the label is not on the issue, and nothing changes;
- names with ``/``, spaces, ``%``, emoji and other unicode survive PyGithub's
  quoting (which leaves ``/`` unescaped) and also the fully escaped ``%2F`` form;
- names match case-insensitively and the repository's spelling wins;
- every body form GitHub accepts for add/set (names, ``{"name"}`` objects, bare or
  under ``labels``); wrong forms are 422 and change nothing;
- repository labels: nine defaults on a new repository, create/get/update/delete,
  422 for a bad color or a duplicate name; deleting one takes it off issues too;
- each effect lands on the timeline as ``o/r#n:+label:x`` / ``o/r#n:-label:x``.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from github import GithubException
from github.PullRequest import PullRequest
from github.Repository import Repository

from remedy.local.emulators.github.server import GitHubEmulator

from .conftest import Http

LABELS = "/repos/remedy-bot/demo/issues/1/labels"


def names(pr: PullRequest) -> list[str]:
    return [each.name for each in pr.get_labels()]


def test_add_creates_missing_repo_labels_with_ededed_and_returns_full_list(
    http: Http, repo: Repository, pr: PullRequest
) -> None:
    pr.add_to_labels("ready-for-qa")
    answer = http.post(LABELS, json={"labels": ["remediation-in-progress"]})
    assert answer.status_code == 200
    assert [each["name"] for each in answer.json()] == ["ready-for-qa", "remediation-in-progress"]
    created = repo.get_label("remediation-in-progress")
    assert (created.color, created.default, created.description) == ("ededed", False, None)


def test_adding_a_present_label_changes_nothing(github: GitHubEmulator, pr: PullRequest) -> None:
    pr.add_to_labels("ready-for-qa")
    before = github.timeline
    pr.add_to_labels("ready-for-qa")
    assert names(pr) == ["ready-for-qa"]
    assert github.timeline == before


def test_set_replaces_and_delete_all_empties(
    github: GitHubEmulator, http: Http, pr: PullRequest
) -> None:
    pr.add_to_labels("a", "b")
    pr.set_labels("b", "c")
    assert names(pr) == ["b", "c"]
    assert http.request("DELETE", LABELS).status_code == 204
    assert names(pr) == []
    assert github.timeline[-2:] == ["remedy-bot/demo#1:-label:b", "remedy-bot/demo#1:-label:c"]


def test_remove_one_answers_the_labels_that_remain(http: Http, pr: PullRequest) -> None:
    pr.add_to_labels("ready-for-qa", "keep")
    answer = http.request("DELETE", f"{LABELS}/ready-for-qa")
    assert answer.status_code == 200
    assert [each["name"] for each in answer.json()] == ["keep"]


def test_removing_a_label_not_on_the_issue_is_404_and_changes_nothing(
    github: GitHubEmulator, repo: Repository, pr: PullRequest
) -> None:
    """docs.github.com/rest/issues/labels#remove-a-label-from-an-issue: "returns a 404
    Not Found status if the label does not exist" - also when the repository has the
    label but the issue does not (github/docs#35553)."""
    pr.add_to_labels("keep")
    repo.create_label("elsewhere", "00ff00")
    before = github.timeline
    for absent in ("elsewhere", "never-existed"):
        with pytest.raises(GithubException) as raised:
            pr.remove_from_labels(absent)
        assert raised.value.status == 404
        assert raised.value.data["message"] == "Label does not exist"
    assert names(pr) == ["keep"]
    assert github.timeline == before


@pytest.mark.parametrize(
    "label", ["area/ci", "🔴 blocked", "needs review", "100%", "a/b/c", "ünïcødé", "x?y#z"]
)
def test_awkward_label_names_round_trip_through_pygithub(
    github: GitHubEmulator, pr: PullRequest, label: str
) -> None:
    pr.add_to_labels(label, "other")
    assert label in names(pr)
    pr.remove_from_labels(label)
    assert names(pr) == ["other"]
    assert github.timeline[-1] == f"remedy-bot/demo#1:-label:{label}"


def test_fully_escaped_slash_routes_to_the_same_label(http: Http, pr: PullRequest) -> None:
    pr.add_to_labels("area/ci")
    answer = http.request("DELETE", f"{LABELS}/{quote('area/ci', safe='')}")
    assert answer.status_code == 200
    assert answer.json() == []


def test_label_urls_are_escaped_and_on_the_emulator(
    github: GitHubEmulator, pr: PullRequest
) -> None:
    pr.add_to_labels("area/ci")
    label = pr.get_labels()[0]
    assert label.url == f"{github.url}/repos/remedy-bot/demo/labels/area%2Fci"
    assert label.name == "area/ci"


def test_names_match_case_insensitively_and_the_repo_spelling_wins(
    repo: Repository, pr: PullRequest
) -> None:
    repo.create_label("Ready-For-QA", "123456")
    pr.add_to_labels("ready-for-qa")
    assert names(pr) == ["Ready-For-QA"]
    pr.remove_from_labels("READY-FOR-QA")
    assert names(pr) == []


@pytest.mark.parametrize(
    "body",
    [
        ["x", "y"],
        {"labels": ["x", "y"]},
        [{"name": "x"}, {"name": "y"}],
        {"labels": [{"name": "x"}, {"name": "y"}]},
    ],
)
def test_every_documented_body_form_is_accepted(http: Http, pr: PullRequest, body: object) -> None:
    for method in ("POST", "PUT"):
        answer = http.request(method, LABELS, json=body)
        assert answer.status_code == 200, answer.text
        assert [each["name"] for each in answer.json()] == ["x", "y"]


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (b"{not json", 400),
        (b'{"labels": [1, 2]}', 422),
        (b'{"labels": {"name": "x"}}', 422),
        (b'{"labels": [""]}', 422),
        (b'{"labels": ["' + b"x" * 51 + b'"]}', 422),
    ],
)
def test_malformed_label_bodies_are_refused_and_change_nothing(
    github: GitHubEmulator, http: Http, pr: PullRequest, raw: bytes, status: int
) -> None:
    before = github.timeline
    answer = http.post(LABELS, data=raw, headers={"Content-Type": "application/json"})
    assert answer.status_code == status
    assert answer.json()["message"]
    assert github.timeline == before


def test_new_repository_has_githubs_default_labels(repo: Repository) -> None:
    assert [each.name for each in repo.get_labels()] == [
        "bug",
        "documentation",
        "duplicate",
        "enhancement",
        "good first issue",
        "help wanted",
        "invalid",
        "question",
        "wontfix",
    ]


def test_repo_label_crud(repo: Repository, pr: PullRequest) -> None:
    label = repo.create_label("test-label", "663399")
    assert (label.name, label.color) == ("test-label", "663399")
    label.edit("test-label-updated", "BADA55", "new")
    fetched = repo.get_label("test-label-updated")
    assert (fetched.color, fetched.description) == ("BADA55", "new")
    pr.add_to_labels("test-label-updated")
    fetched.delete()
    assert names(pr) == []
    with pytest.raises(GithubException) as raised:
        repo.get_label("test-label-updated")
    assert raised.value.status == 404


@pytest.mark.parametrize(
    ("name", "color", "code", "field"),
    [
        ("foo", "invalid", "invalid", "color"),
        ("bug", "ffffff", "already_exists", "name"),
        ("", "ffffff", "missing_field", "name"),
    ],
)
def test_repo_label_validation(
    repo: Repository, name: str, color: str, code: str, field: str
) -> None:
    with pytest.raises(GithubException) as raised:
        repo.create_label(name, color)
    assert raised.value.status == 422
    assert raised.value.data["message"] == "Validation Failed"
    assert raised.value.data["errors"] == [{"resource": "Label", "code": code, "field": field}]
