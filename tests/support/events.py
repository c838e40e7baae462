"""Sending CloudEvents to a function's test client, and the push event the chain starts from.

Every folder that drives the remediation chain function by function posts binary-mode
events to a Flask test client and expects either a reply (200, an event back) or an
ack (202, nothing to send on); and most of them start from Rex's push to the task's
branch. One copy here keeps the expectations identical across folders.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cloudevents.http import CloudEvent, from_http

from remedy.events.codec import encode_binary
from tests.chain import seed


def post(app: Any, event: CloudEvent, path: str = "/") -> Any:
    """POST ``event`` in binary mode; the test client's response, whatever its status."""
    headers, body = encode_binary(event)
    return app.post(path, data=body, headers=headers)


def reply(app: Any, event: CloudEvent) -> CloudEvent:
    """The event the function answers ``event`` with; fails unless it answered 200."""
    response = post(app, event)
    assert response.status_code == 200, response.get_data(as_text=True)
    return from_http(dict(response.headers), response.get_data())


def acked(app: Any, event: CloudEvent) -> None:
    """Fails unless the function took ``event`` with a bare 202 ack."""
    response = post(app, event)
    assert response.status_code == 202, response.get_data(as_text=True)


def push_event(
    *,
    delivery: str,
    branch: str,
    before: str,
    after: str,
    pushed_at: datetime | None = None,
) -> CloudEvent:
    """Rex's push to ``branch`` of the seeded repository, as GitHubSource sends it.

    Without ``pushed_at`` the push is dated an hour from now, so every seeded run
    predates it.
    """
    when = pushed_at if pushed_at is not None else datetime.now(UTC) + timedelta(hours=1)
    return CloudEvent(
        {
            "type": "dev.knative.source.github.push",
            "source": f"https://github.com/{seed.REPO}",
            "id": delivery,
        },
        {
            "ref": f"refs/heads/{branch}",
            "before": before,
            "after": after,
            "pusher": {"name": "5DLabs-Rex"},
            "sender": {"login": "5DLabs-Rex[bot]"},
            "repository": {
                "full_name": seed.REPO,
                "name": "cto",
                "pushed_at": int(when.timestamp()),
            },
        },
    )
