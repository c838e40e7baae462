"""GitHub's JSON shapes for the records, with every URL on the emulator's own base.

The field sets follow real payloads: the recorded octokit fixtures (repository,
issue, label) and GitHub's webhook examples (pull request, issue comment, review) in
``reference/``. URLs point back at the emulator because PyGithub follows the URLs it
is given (``issue_url`` for a pull request's labels, ``Link`` for pages) and refuses
hosts other than its ``base_url``. Web (``html_url``) links use the same base, as on
a GitHub Enterprise host. Call these under the model's lock: they read live records.
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

from remedy.local.emulators.github.records import Comment, Issue, Label, Repo, Review, User

Json = dict[str, Any]

_REACTIONS = ("+1", "-1", "laugh", "hooray", "confused", "heart", "rocket", "eyes")


def node_id(kind: str, number: int) -> str:
    return base64.b64encode(f"0:{kind}{number}".encode()).decode()


def _reactions(url: str) -> Json:
    return {"url": f"{url}/reactions", "total_count": 0, **dict.fromkeys(_REACTIONS, 0)}


def user(u: User, base: str) -> Json:
    api = f"{base}/users/{u.login}"
    return {
        "login": u.login,
        "id": u.id,
        "node_id": node_id(u.type, u.id),
        "avatar_url": f"{base}/avatars/u/{u.id}?v=4",
        "gravatar_id": "",
        "url": api,
        "html_url": f"{base}/{u.login}",
        "followers_url": f"{api}/followers",
        "following_url": f"{api}/following{{/other_user}}",
        "gists_url": f"{api}/gists{{/gist_id}}",
        "starred_url": f"{api}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{api}/subscriptions",
        "organizations_url": f"{api}/orgs",
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events{{/privacy}}",
        "received_events_url": f"{api}/received_events",
        "type": u.type,
        "user_view_type": "public",
        "site_admin": False,
    }


def full_user(u: User, base: str) -> Json:
    """``GET /user`` and ``GET /users/{login}``: the public profile fields too."""
    return {
        **user(u, base),
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "hireable": None,
        "bio": None,
        "twitter_username": None,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "created_at": u.created_at,
        "updated_at": u.created_at,
    }


def organization(org: User, base: str) -> Json:
    """``GET /orgs/{org}``."""
    api = f"{base}/orgs/{org.login}"
    return {
        "login": org.login,
        "id": org.id,
        "node_id": node_id("Organization", org.id),
        "url": api,
        "repos_url": f"{api}/repos",
        "events_url": f"{api}/events",
        "hooks_url": f"{api}/hooks",
        "issues_url": f"{api}/issues",
        "members_url": f"{api}/members{{/member}}",
        "public_members_url": f"{api}/public_members{{/member}}",
        "avatar_url": f"{base}/avatars/u/{org.id}?v=4",
        "description": None,
        "name": None,
        "company": None,
        "blog": "",
        "location": None,
        "email": None,
        "is_verified": False,
        "has_organization_projects": True,
        "has_repository_projects": True,
        "public_repos": 0,
        "public_gists": 0,
        "followers": 0,
        "following": 0,
        "html_url": f"{base}/{org.login}",
        "created_at": org.created_at,
        "updated_at": org.created_at,
        "type": "Organization",
    }


_REPO_TEMPLATES = (
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
)


def repo(r: Repo, base: str) -> Json:
    """The repository as embedded in a pull request's ``head``/``base``."""
    api = f"{base}/repos/{r.full_name}"
    html = f"{base}/{r.full_name}"
    host = base.split("://", 1)[-1].split("/", 1)[0]
    shape: Json = {
        "id": r.id,
        "node_id": node_id("Repository", r.id),
        "name": r.name,
        "full_name": r.full_name,
        "private": r.private,
        "owner": user(r.owner, base),
        "html_url": html,
        "description": r.description,
        "fork": False,
        "url": api,
        "forks_url": f"{api}/forks",
    }
    for key, suffix in _REPO_TEMPLATES:
        shape[key] = api + suffix
    open_issues = r.open_issues_count
    shape.update(
        {
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "pushed_at": r.updated_at,
            "git_url": f"git://{host}/{r.full_name}.git",
            "ssh_url": f"git@{host}:{r.full_name}.git",
            "clone_url": f"{html}.git",
            "svn_url": html,
            "homepage": None,
            "size": 0,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": None,
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": True,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": open_issues,
            "license": None,
            "allow_forking": True,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "private" if r.private else "public",
            "forks": 0,
            "open_issues": open_issues,
            "watchers": 0,
            "default_branch": r.default_branch,
        }
    )
    return shape


def full_repo(r: Repo, base: str) -> Json:
    """``GET /repos/{o}/{r}`` and the create answers: permissions and settings too."""
    shape = repo(r, base)
    shape.update(
        {
            "permissions": dict.fromkeys(("admin", "maintain", "push", "triage", "pull"), True),
            "allow_squash_merge": True,
            "allow_merge_commit": True,
            "allow_rebase_merge": True,
            "allow_auto_merge": False,
            "delete_branch_on_merge": False,
            "allow_update_branch": False,
            "use_squash_pr_title_as_default": False,
            "network_count": 0,
            "subscribers_count": 0,
        }
    )
    if r.owner.type == "Organization":
        shape["organization"] = user(r.owner, base)
    return shape


def label(lab: Label, r: Repo, base: str) -> Json:
    return {
        "id": lab.id,
        "node_id": node_id("Label", lab.id),
        "url": f"{base}/repos/{r.full_name}/labels/{quote(lab.name, safe='')}",
        "name": lab.name,
        "color": lab.color,
        "default": lab.default,
        "description": lab.description,
    }


def _association(i: Issue, author: User) -> str:
    return "OWNER" if author.login.lower() == i.repo.owner.login.lower() else "CONTRIBUTOR"


def issue(i: Issue, base: str) -> Json:
    r = i.repo
    api = f"{base}/repos/{r.full_name}/issues/{i.number}"
    shape: Json = {
        "url": api,
        "repository_url": f"{base}/repos/{r.full_name}",
        "labels_url": f"{api}/labels{{/name}}",
        "comments_url": f"{api}/comments",
        "events_url": f"{api}/events",
        "html_url": f"{base}/{r.full_name}/{'pull' if i.pull else 'issues'}/{i.number}",
        "id": i.id,
        "node_id": node_id("Issue", i.id),
        "number": i.number,
        "title": i.title,
        "user": user(i.user, base),
        "labels": [label(each, r, base) for each in i.labels],
        "state": i.state,
        "locked": False,
        "assignee": None,
        "assignees": [],
        "milestone": None,
        "comments": i.comments,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "closed_at": i.closed_at,
        "author_association": _association(i, i.user),
        "active_lock_reason": None,
        "body": i.body,
        "closed_by": None,
        "reactions": _reactions(api),
        "timeline_url": f"{api}/timeline",
        "performed_via_github_app": None,
        "state_reason": ("completed" if i.state == "closed" else None),
    }
    if i.pull is not None:
        pulls = f"{base}/repos/{r.full_name}/pulls/{i.number}"
        html = f"{base}/{r.full_name}/pull/{i.number}"
        shape["draft"] = i.pull.draft
        shape["pull_request"] = {
            "url": pulls,
            "html_url": html,
            "diff_url": f"{html}.diff",
            "patch_url": f"{html}.patch",
            "merged_at": i.pull.merged_at,
        }
    return shape


def comment(c: Comment, r: Repo, base: str) -> Json:
    api = f"{base}/repos/{r.full_name}/issues/comments/{c.id}"
    return {
        "url": api,
        "html_url": f"{base}/{r.full_name}/issues/{c.issue_number}#issuecomment-{c.id}",
        "issue_url": f"{base}/repos/{r.full_name}/issues/{c.issue_number}",
        "id": c.id,
        "node_id": node_id("IssueComment", c.id),
        "user": user(c.user, base),
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "author_association": "OWNER" if c.user is r.owner else "CONTRIBUTOR",
        "body": c.body,
        "reactions": _reactions(api),
        "performed_via_github_app": None,
    }


def review(rv: Review, i: Issue, base: str) -> Json:
    pull_url = f"{base}/repos/{i.repo.full_name}/pulls/{i.number}"
    html = f"{base}/{i.repo.full_name}/pull/{i.number}#pullrequestreview-{rv.id}"
    shape: Json = {
        "id": rv.id,
        "node_id": node_id("PullRequestReview", rv.id),
        "user": user(rv.user, base),
        "body": rv.body,
        "state": rv.state,
        "html_url": html,
        "pull_request_url": pull_url,
        "author_association": _association(i, rv.user),
        "_links": {"html": {"href": html}, "pull_request": {"href": pull_url}},
        "commit_id": rv.commit_id,
    }
    if rv.submitted_at is not None:
        shape["submitted_at"] = rv.submitted_at
    return shape
