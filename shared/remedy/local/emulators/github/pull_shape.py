"""The pull request shape (the largest one, so it lives apart from :mod:`.shapes`).

``GET /repos/{o}/{r}/pulls/{n}`` answers the full shape (GitHub's webhook
``pull_request`` object: merge state, counts); list items are GitHub's "simple"
pull request, which omits those fields.
"""

from __future__ import annotations

from remedy.local.emulators.github import shapes
from remedy.local.emulators.github.records import Issue, PullFields, Repo
from remedy.local.emulators.github.shapes import Json


def _ref(pull_repo: Repo, ref: str, sha: str, base: str) -> Json:
    return {
        "label": f"{pull_repo.owner.login}:{ref}",
        "ref": ref,
        "sha": sha,
        "user": shapes.user(pull_repo.owner, base),
        "repo": shapes.repo(pull_repo, base),
    }


def pull(i: Issue, base: str, *, full: bool = True) -> Json:
    p: PullFields | None = i.pull
    assert p is not None, "pull() needs a pull request"
    r = i.repo
    api = f"{base}/repos/{r.full_name}/pulls/{i.number}"
    html = f"{base}/{r.full_name}/pull/{i.number}"
    issue_api = f"{base}/repos/{r.full_name}/issues/{i.number}"
    statuses = f"{base}/repos/{r.full_name}/statuses/{p.head_sha}"
    review_comment = f"{base}/repos/{r.full_name}/pulls/comments{{/number}}"
    shape: Json = {
        "url": api,
        "id": p.id,
        "node_id": shapes.node_id("PullRequest", p.id),
        "html_url": html,
        "diff_url": f"{html}.diff",
        "patch_url": f"{html}.patch",
        "issue_url": issue_api,
        "number": i.number,
        "state": i.state,
        "locked": False,
        "title": i.title,
        "user": shapes.user(i.user, base),
        "body": i.body,
        "created_at": i.created_at,
        "updated_at": i.updated_at,
        "closed_at": i.closed_at,
        "merged_at": p.merged_at,
        "merge_commit_sha": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_teams": [],
        "labels": [shapes.label(each, r, base) for each in i.labels],
        "milestone": None,
        "draft": p.draft,
        "commits_url": f"{api}/commits",
        "review_comments_url": f"{api}/comments",
        "review_comment_url": review_comment,
        "comments_url": f"{issue_api}/comments",
        "statuses_url": statuses,
        "head": _ref(p.head_repo, p.head_ref, p.head_sha, base),
        "base": _ref(r, p.base_ref, p.base_sha, base),
        "_links": {
            "self": {"href": api},
            "html": {"href": html},
            "issue": {"href": issue_api},
            "comments": {"href": f"{issue_api}/comments"},
            "review_comments": {"href": f"{api}/comments"},
            "review_comment": {"href": review_comment},
            "commits": {"href": f"{api}/commits"},
            "statuses": {"href": statuses},
        },
        "author_association": (
            "OWNER" if i.user.login.lower() == r.owner.login.lower() else "CONTRIBUTOR"
        ),
        "auto_merge": None,
        "active_lock_reason": None,
    }
    if full:
        shape.update(
            {
                "merged": p.merged_at is not None,
                "mergeable": None,
                "rebaseable": None,
                "mergeable_state": "unknown",
                "merged_by": None,
                "comments": i.comments,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": 1,
                "additions": 0,
                "deletions": 0,
                "changed_files": 0,
            }
        )
    return shape
