"""The webhooks GitHub sends about the seeded tasks, and sending them signed.

Bodies are GitHub's shapes, trimmed to what remedy reads: a Rex push to the task's
branch (``push_body``, and ``source_push`` for the same push as Knative's GitHubSource
forwards it), a comment and a review on the task's PR. ``send_webhook`` signs a body
with the platform's webhook secret and posts it to webhook-gateway, as GitHub does.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from remedy.domain.signatures import sign
from tests.chaos.seeding import REPO

if TYPE_CHECKING:
    from tests.chaos.harness import Harness


def push_body(*, task: int, before: str, after: str, pushed_at: int) -> dict[str, Any]:
    """Rex's push of ``after`` over ``before`` to the task's branch."""
    owner, name = REPO.split("/")
    return {
        "ref": f"refs/heads/task-{task}-chaos",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}",
        "pusher": {"name": "5DLabs-Rex[bot]"},
        "sender": {"login": "5DLabs-Rex[bot]"},
        "repository": {
            "name": name,
            "full_name": REPO,
            "owner": {"login": owner},
            "pushed_at": pushed_at,
        },
    }


def source_push(
    *, task: int, before: str, after: str, delivery: str, pushed_at: int
) -> tuple[dict[str, str], str]:
    """The push as Knative's GitHubSource sends it: a binary CloudEvent's headers and body.

    Its data is GitHubSource's re-serialised struct (false fields dropped, ``pushed_at``
    an RFC 3339 string); another hook, so another delivery id.
    """
    body = push_body(task=task, before=before, after=after, pushed_at=pushed_at)
    data = {k: v for k, v in body.items() if v is not False}
    moment = datetime.fromtimestamp(pushed_at, tz=UTC)
    data["repository"]["pushed_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    owner, name = REPO.split("/")
    headers = {
        "ce-specversion": "1.0",
        "ce-type": "dev.knative.source.github.push",
        "ce-source": f"https://github.com/{REPO}",
        "ce-id": delivery,
        "ce-subject": str(after),
        "ce-owner": owner,
        "ce-repository": name,
        "ce-ref": data["ref"],
        "ce-pusher": data["pusher"]["name"],
        "ce-sender": data["sender"]["login"],
        "Content-Type": "application/json",
    }
    return headers, json.dumps(data)


def comment_body(
    *, task: int, pr: int, comment_id: int, author: str, body: str, action: str = "created"
) -> dict[str, Any]:
    """An issue_comment webhook on the task's PR (GitHub's shape, trimmed)."""
    owner, name = REPO.split("/")
    html = f"https://github.com/{REPO}/pull/{pr}"
    return {
        "action": action,
        "issue": {
            "number": pr,
            "html_url": html,
            "labels": [{"name": f"task-{task}"}],
            "pull_request": {
                "url": f"https://api.github.com/repos/{REPO}/pulls/{pr}",
                "html_url": html,
            },
        },
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": author},
            "html_url": f"{html}#issuecomment-{comment_id}",
        },
        "repository": {"name": name, "full_name": REPO, "owner": {"login": owner}},
        "sender": {"login": author},
    }


def review_body(
    *, task: int, pr: int, review_id: int, author: str, state: str, head: str = "0" * 40
) -> dict[str, Any]:
    """A pull_request_review submitted webhook on the task's PR (trimmed)."""
    owner, name = REPO.split("/")
    return {
        "action": "submitted",
        "review": {"id": review_id, "state": state, "user": {"login": author}},
        "pull_request": {
            "number": pr,
            "head": {"ref": f"task-{task}-chaos", "sha": head},
            "labels": [{"name": f"task-{task}"}],
        },
        "repository": {"name": name, "full_name": REPO, "owner": {"login": owner}},
        "sender": {"login": author},
    }


def send_webhook(harness: Harness, *, event: str, payload: dict[str, Any], delivery: str) -> int:
    """Post ``payload`` to webhook-gateway as GitHub would; the gateway's status code."""
    body = json.dumps(payload).encode()
    secret = harness.state["webhook_secret"].encode()
    response = harness.gateway.post(
        harness.state["gateway_url"],
        data=body,
        timeout=30,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(secret, body),
            "Content-Type": "application/json",
        },
    )
    return response.status_code
