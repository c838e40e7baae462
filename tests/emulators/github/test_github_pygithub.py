"""PyGithub, unmodified, against the emulator over HTTP: users, repositories, pulls,
issues, comments and reviews.

Behaviours covered:
- the authenticated user and other users; unknown users are 404;
- repositories created for the user (``/user/repos``) and an organisation
  (``/orgs/{org}/repos``), read back; a duplicate name is 422; someone else's
  organisation-less login is 404;
- pull requests: create (branches taken to exist, fake head SHA), get, list by
  state, by ``owner:branch`` head, by base; a bare-branch ``head`` is ignored as on
  GitHub; duplicates and head == base are 422; paging follows ``Link``;
- a pull request is an issue: same number sequence, ``pull_request`` key on the
  issue, ``get_pull`` on a plain issue is 404;
- issue comments create/list; reviews create/list with GitHub's event -> state
  mapping; approving or requesting changes on one's own PR is 422.
"""

from __future__ import annotations

import pytest
from github import Github, GithubException, UnknownObjectException
from github.PullRequest import PullRequest
from github.Repository import Repository

from remedy.local.emulators.github.server import GitHubEmulator


def test_authenticated_user_is_the_token_owner(gh: Github, github: GitHubEmulator) -> None:
    me = gh.get_user()
    assert me.login == "remedy-bot"
    assert me.type == "User"
    tess = github.add_user("5DLabs-Tess")
    assert github.client(token=tess).get_user().login == "5DLabs-Tess"


def test_other_users_are_found_by_login_and_unknown_ones_are_404(
    gh: Github, github: GitHubEmulator
) -> None:
    github.add_user("5DLabs-Rex")
    assert gh.get_user("5DLabs-Rex").login == "5DLabs-Rex"
    with pytest.raises(UnknownObjectException):
        gh.get_user("nobody-here").login  # noqa: B018  (the attribute access makes the request)


def test_create_user_repo_and_read_it_back(gh: Github) -> None:
    created = gh.get_user().create_repo("demo", private=True, description="d")  # type: ignore[union-attr]
    assert (created.full_name, created.private, created.description) == (
        "remedy-bot/demo",
        True,
        "d",
    )
    fetched = gh.get_repo("remedy-bot/demo")
    assert fetched.id == created.id
    assert fetched.default_branch == "main"
    assert fetched.owner.login == "remedy-bot"
    assert gh.get_repo("REMEDY-BOT/Demo").id == created.id  # names are case-insensitive


def test_create_org_repo(gh: Github) -> None:
    repo = gh.get_organization("5dlabs").create_repo("cto")
    assert repo.full_name == "5dlabs/cto"
    assert repo.organization.login == "5dlabs"
    assert gh.get_organization("5dlabs").login == "5dlabs"
    assert gh.get_repo("5dlabs/cto").owner.type == "Organization"


def test_duplicate_repo_name_is_422(gh: Github, repo: Repository) -> None:
    with pytest.raises(GithubException) as raised:
        gh.get_user().create_repo("demo")  # type: ignore[union-attr]
    assert raised.value.status == 422
    assert raised.value.data["errors"][0]["message"] == "name already exists on this account"


def test_unknown_repo_is_404(gh: Github) -> None:
    with pytest.raises(UnknownObjectException):
        gh.get_repo("remedy-bot/absent")


def test_create_and_get_pull(repo: Repository, pr: PullRequest) -> None:
    assert (pr.number, pr.state, pr.title, pr.body) == (1, "open", "Task 7", "implements")
    assert (pr.head.ref, pr.base.ref) == ("feature/x", "main")
    assert len(pr.head.sha) == 40
    assert pr.head.repo.full_name == "remedy-bot/demo"
    assert pr.user.login == "remedy-bot"
    fetched = repo.get_pull(1)
    assert fetched.id == pr.id
    assert fetched.head.sha == pr.head.sha
    assert fetched.merged is False


@pytest.mark.parametrize(
    ("head", "base", "message"),
    [
        ("feature/x", "main", "A pull request already exists for remedy-bot:feature/x."),
        ("main", "main", "No commits between main and main"),
    ],
)
def test_pull_create_refusals_are_422(
    repo: Repository, pr: PullRequest, head: str, base: str, message: str
) -> None:
    with pytest.raises(GithubException) as raised:
        repo.create_pull(base=base, head=head, title="again")
    assert raised.value.status == 422
    assert raised.value.data["errors"][0]["message"] == message


def test_list_pulls_by_state_head_and_base(repo: Repository, pr: PullRequest) -> None:
    other = repo.create_pull(base="develop", head="task-8", title="Task 8")
    closed = repo.create_pull(base="main", head="task-9", title="Task 9")
    closed.edit(state="closed")

    def numbers(**filters: str) -> list[int]:
        return [each.number for each in repo.get_pulls(**filters)]  # type: ignore[arg-type]

    assert numbers() == [other.number, pr.number]  # open, newest first
    assert numbers(state="closed") == [closed.number]
    assert sorted(numbers(state="all")) == [1, 2, 3]
    assert numbers(head="remedy-bot:feature/x") == [pr.number]
    assert numbers(head="someone-else:feature/x") == []
    assert numbers(base="develop") == [other.number]
    assert numbers(state="all", head="remedy-bot:task-9") == [closed.number]


def test_bare_branch_head_filter_is_ignored_as_on_github(repo: Repository, pr: PullRequest) -> None:
    """GitHub only filters ``head`` given as ``user:ref-name``; a bare branch name is
    silently ignored and every pull request comes back (docs.github.com/rest/pulls/pulls
    #list-pull-requests; PyGithub#1566, hub4j/github-api#538)."""
    repo.create_pull(base="main", head="task-8", title="Task 8")
    assert sorted(each.number for each in repo.get_pulls(head="feature/x")) == [1, 2]


def test_list_pulls_pages_through_link_headers(github: GitHubEmulator, repo: Repository) -> None:
    for n in range(7):
        repo.create_pull(base="main", head=f"task-{n}", title=f"Task {n}")
    paged = github.client(per_page=3).get_repo("remedy-bot/demo").get_pulls(state="all")
    assert sorted(each.number for each in paged) == list(range(1, 8))
    assert paged.totalCount == 7
    assert github.stats["GET /repos/{owner}/{repo}/pulls"] >= 3


def test_pull_is_an_issue_with_the_same_number_sequence(repo: Repository, pr: PullRequest) -> None:
    issue = repo.create_issue(title="a bug")
    assert issue.number == 2
    as_issue = repo.get_issue(pr.number)
    assert as_issue.pull_request is not None
    assert as_issue.title == "Task 7"
    assert repo.get_issue(issue.number).pull_request is None
    with pytest.raises(UnknownObjectException):
        repo.get_pull(issue.number)
    with pytest.raises(UnknownObjectException):
        repo.get_issue(99)


def test_issue_comments_create_and_list(repo: Repository, pr: PullRequest) -> None:
    issue = repo.get_issue(pr.number)
    first = issue.create_comment("first")
    issue.create_comment("second")
    assert first.user.login == "remedy-bot"
    assert [each.body for each in issue.get_comments()] == ["first", "second"]
    assert [each.body for each in pr.get_issue_comments()] == ["first", "second"]
    assert repo.get_issue(pr.number).comments == 2


def test_blank_comment_is_422(repo: Repository, pr: PullRequest) -> None:
    with pytest.raises(GithubException) as raised:
        repo.get_issue(pr.number).create_comment("  ")
    assert raised.value.status == 422


@pytest.mark.parametrize(
    ("event", "state"),
    [("APPROVE", "APPROVED"), ("REQUEST_CHANGES", "CHANGES_REQUESTED"), ("COMMENT", "COMMENTED")],
)
def test_review_events_map_to_states(
    github: GitHubEmulator, pr: PullRequest, event: str, state: str
) -> None:
    tess = github.client(token=github.add_user("5DLabs-Tess"))
    as_tess = tess.get_repo("remedy-bot/demo").get_pull(pr.number)
    review = as_tess.create_review(body="🔴 Required Changes: fix it", event=event)
    assert review.state == state
    assert review.commit_id == pr.head.sha
    listed = pr.get_reviews()
    assert [(each.state, each.user.login) for each in listed] == [(state, "5DLabs-Tess")]
    assert f"remedy-bot/demo#1:review:{state}:5DLabs-Tess" in github.timeline


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("APPROVE", "Can not approve your own pull request"),
        ("REQUEST_CHANGES", "Can not request changes on your own pull request"),
    ],
)
def test_own_pull_request_cannot_be_approved_or_blocked(
    pr: PullRequest, event: str, message: str
) -> None:
    """GitHub answers 422 ``Unprocessable Entity`` with the reason in ``errors``
    (docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request)."""
    with pytest.raises(GithubException) as raised:
        pr.create_review(body="self", event=event)
    assert raised.value.status == 422
    assert raised.value.data["errors"] == [message]
    assert pr.get_reviews().totalCount == 0


def test_pull_edit_closes_and_reopens(repo: Repository, pr: PullRequest) -> None:
    pr.edit(state="closed", title="renamed")
    fetched = repo.get_pull(pr.number)
    assert (fetched.state, fetched.title) == ("closed", "renamed")
    assert fetched.closed_at is not None
    pr.edit(state="open")
    assert repo.get_pull(pr.number).closed_at is None


def test_pending_review_is_seen_by_its_author_only(github: GitHubEmulator, pr: PullRequest) -> None:
    """A review created without ``event`` is PENDING and visible only to its author;
    a second pending review by the same user is 422."""
    tess = github.client(token=github.add_user("5DLabs-Tess"))
    as_tess = tess.get_repo("remedy-bot/demo").get_pull(pr.number)
    pending = as_tess.create_review(body="draft")
    assert pending.state == "PENDING"
    assert [each.state for each in as_tess.get_reviews()] == ["PENDING"]
    assert pr.get_reviews().totalCount == 0
    with pytest.raises(GithubException) as raised:
        as_tess.create_review(body="another draft")
    assert raised.value.data["errors"] == ["User can only have one pending review per pull request"]


def test_list_repository_issues_filters_by_labels_and_includes_pulls(
    github: GitHubEmulator,
) -> None:
    """GET /repos/{o}/{r}/issues returns issues *and* pull requests (the latter with a
    ``pull_request`` key); ``labels`` requires every listed label
    (https://docs.github.com/rest/issues/issues#list-repository-issues)."""
    client = github.client()
    repo = client.get_user().create_repo("listing")
    pull = repo.create_pull(title="t", body="", head="task-5-x", base="main")
    pull.as_issue().add_to_labels("task-5", "area/ci")
    repo.create_issue(title="plain").add_to_labels("task-5")
    labelled = repo.get_issues(state="open", labels=["task-5", "area/ci"])
    assert [issue.number for issue in labelled] == [pull.number]
    assert labelled[0].pull_request is not None
    assert {issue.number for issue in repo.get_issues(labels=["task-5"])} == {1, 2}
