"""Reading issue_comment and pull_request_review events into :class:`FeedbackFacts`.

Both arrive as webhook-gateway's raw body or as GitHubSource's re-serialised struct
(see :mod:`remedy.events.github`). The struct GitHubSource uses for an issue has no
``pull_request`` member, so in that form a comment on a pull request is recognised by
its ``html_url`` (``…/pull/<n>``, where a plain issue's is ``…/issues/<n>``): either
signal marks the comment as being on a PR. Missing optional parts are tolerated; a
payload without the ids and numbers everything hangs on is unreadable (400).
"""

from __future__ import annotations

import re
from typing import Any

from cloudevents.http import CloudEvent
from pydantic import PositiveInt, ValidationError

from remedy.domain.feedback import FeedbackFacts, FeedbackKind
from remedy.events import catalogue
from remedy.events.codec import UnreadableEvent
from remedy.events.github import (
    Account,
    Head,
    Label,
    Lenient,
    RepositoryRef,
    login_of,
    payload_dict,
    repository_of,
)

KINDS: dict[str, FeedbackKind] = {
    catalogue.ISSUE_COMMENT: "comment",
    catalogue.PULL_REQUEST_REVIEW: "review",
}
_PULL_URL = re.compile(r"/pull/[0-9]+(?:[#/?]|$)")


class _Issue(Lenient):
    number: PositiveInt
    html_url: str | None = None
    pull_request: dict[str, Any] | None = None
    labels: list[Label] | None = None


class _Comment(Lenient):
    id: PositiveInt
    body: str | None = None
    html_url: str | None = None
    user: Account | None = None


class CommentPayload(Lenient):
    action: str = ""
    issue: _Issue
    comment: _Comment
    sender: Account | None = None
    repository: RepositoryRef | None = None


class _Review(Lenient):
    id: PositiveInt
    state: str | None = None
    body: str | None = None
    user: Account | None = None


class _Pull(Lenient):
    number: PositiveInt
    head: Head | None = None
    labels: list[Label] | None = None


class ReviewPayload(Lenient):
    action: str = ""
    review: _Review
    pull_request: _Pull
    sender: Account | None = None
    repository: RepositoryRef | None = None


def feedback_facts(event: CloudEvent) -> FeedbackFacts:
    kind = KINDS.get(str(event["type"]))
    if kind is None:
        raise UnreadableEvent(f"{event['type']} is not a comment or review event")
    data = payload_dict(event)
    try:
        return _comment(event, data) if kind == "comment" else _review(event, data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise UnreadableEvent(f"not a GitHub {kind} payload: {where}: {first['msg']}") from exc


def _labels(labels: list[Label] | None) -> tuple[str, ...]:
    return tuple(label.name for label in labels or () if label.name)


def _comment(event: CloudEvent, data: dict[str, Any]) -> FeedbackFacts:
    payload = CommentPayload.model_validate(data)
    issue, comment = payload.issue, payload.comment
    urls = (issue.html_url or "", comment.html_url or "")
    return FeedbackFacts(
        kind="comment",
        repository=repository_of(event, payload.repository),
        action=payload.action or str(event.get_attributes().get("action") or ""),
        feedback_id=comment.id,
        author=login_of(comment.user) or login_of(payload.sender),
        body=comment.body or "",
        number=issue.number,
        on_pull_request=issue.pull_request is not None or any(_PULL_URL.search(u) for u in urls),
        labels=_labels(issue.labels),
    )


def _review(event: CloudEvent, data: dict[str, Any]) -> FeedbackFacts:
    payload = ReviewPayload.model_validate(data)
    review, pull = payload.review, payload.pull_request
    head = pull.head or Head()
    return FeedbackFacts(
        kind="review",
        repository=repository_of(event, payload.repository),
        action=payload.action or str(event.get_attributes().get("action") or ""),
        feedback_id=review.id,
        author=login_of(review.user) or login_of(payload.sender),
        body=review.body or "",
        number=pull.number,
        on_pull_request=True,
        labels=_labels(pull.labels),
        head_ref=head.ref,
        head_sha=head.sha,
        review_state=(review.state or str(event.get_attributes().get("review") or "")).lower(),
    )
