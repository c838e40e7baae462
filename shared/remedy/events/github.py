"""Reading GitHub events however they arrive.

webhook-gateway forwards GitHub's raw, lossless body; Knative's GitHubSource sends a
re-serialised struct whose JSON drops unknown fields and omits false or empty ones
(``deleted`` disappears when false). Both are accepted: the models below are lenient
about what is missing, strict about what is malformed, and fall back on the
CloudEvent's ``source`` and GitHubSource's extensions where the data is silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudevents.http import CloudEvent
from pydantic import BaseModel, ConfigDict, ValidationError

from remedy import untrusted_json
from remedy.domain.agents import parse_time
from remedy.domain.identifiers import InvalidIdentifier, Repository
from remedy.domain.pushes import PushFacts
from remedy.events.codec import UnreadableEvent

GITHUB_HTML = "https://github.com/"


class Lenient(BaseModel):
    """Base of every GitHub payload model here and in the handlers that read them."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(Lenient):
    login: str | None = None
    name: str | None = None


class RepositoryRef(Lenient):
    """What names a repository in any event's ``repository`` member."""

    full_name: str | None = None
    name: str | None = None
    owner: Account | None = None


class Label(Lenient):
    name: str = ""


class Head(Lenient):
    ref: str = ""
    sha: str = ""


class _Repository(RepositoryRef):
    pushed_at: int | str | None = None
    """Unix seconds in push payloads (an ISO string in other events' repository)."""


class PushPayload(Lenient):
    ref: str
    before: str = ""
    after: str = ""
    deleted: bool = False
    forced: bool = False
    pusher: Account | None = None
    sender: Account | None = None
    repository: _Repository | None = None


def payload_dict(event: CloudEvent) -> dict[str, Any]:
    data = event.get_data()
    if isinstance(data, bytes | str):
        try:
            data = untrusted_json.loads(data)
        except untrusted_json.NotJson as exc:
            raise UnreadableEvent(f"event data is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise UnreadableEvent(f"event data is {type(data).__name__}, not a JSON object")
    return data


def repository_of(event: CloudEvent, repository: RepositoryRef | None) -> Repository:
    candidates: list[str] = []
    if repository is not None:
        if repository.full_name:
            candidates.append(repository.full_name)
        if repository.owner and repository.name:
            owner = repository.owner.login or repository.owner.name
            if owner:
                candidates.append(f"{owner}/{repository.name}")
    source = str(event["source"])
    if source.startswith(GITHUB_HTML):
        candidates.append(source.removeprefix(GITHUB_HTML).strip("/"))
    extensions = event.get_attributes()
    if extensions.get("owner") and extensions.get("repository"):
        candidates.append(f"{extensions['owner']}/{extensions['repository']}")
    for candidate in candidates:
        try:
            return Repository.parse(candidate)
        except InvalidIdentifier:
            continue
    raise UnreadableEvent("the event names no valid repository (data, source or extensions)")


def login_of(account: Account | None) -> str:
    """The account's login, or "" when the payload leaves it out."""
    return (account.login or "") if account else ""


def push_facts(event: CloudEvent) -> PushFacts:
    try:
        payload = PushPayload.model_validate(payload_dict(event))
    except ValidationError as exc:
        raise UnreadableEvent(f"not a push payload: {exc.errors()[0]['msg']}") from exc
    attributes = event.get_attributes()
    pusher = (payload.pusher.name or payload.pusher.login) if payload.pusher else None
    sender = payload.sender.login if payload.sender else None
    return PushFacts(
        repository=repository_of(event, payload.repository),
        ref=payload.ref,
        before=payload.before,
        after=payload.after,
        pusher=pusher or str(attributes.get("pusher") or ""),
        sender=sender or str(attributes.get("sender") or ""),
        deleted=payload.deleted,
        forced=payload.forced,
        pushed_at=_pushed_at(payload.repository),
    )


def _pushed_at(repository: _Repository | None) -> datetime | None:
    value = repository.pushed_at if repository else None
    if isinstance(value, int) and value > 0:
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        return parse_time(value)
    return None


class _Pull(Lenient):
    number: int = 0
    state: str = ""
    head: Head = Head()
    labels: list[Label] = []


class _Review(Lenient):
    id: int = 0
    state: str = ""
    user: Account | None = None


class PullRequestPayload(Lenient):
    action: str = ""
    number: int = 0
    pull_request: _Pull
    label: Label | None = None
    review: _Review | None = None
    sender: Account | None = None
    repository: _Repository | None = None


@dataclass(frozen=True)
class PullRequestFacts:
    """What the stage-aware resume needs from a pull_request(_review) event."""

    repository: Repository
    action: str
    number: int
    head_ref: str
    head_sha: str
    labels: tuple[str, ...]
    label: str | None
    sender: str
    review_state: str | None
    reviewer: str | None


def pull_request_facts(event: CloudEvent) -> PullRequestFacts:
    try:
        payload = PullRequestPayload.model_validate(payload_dict(event))
    except ValidationError as exc:
        raise UnreadableEvent(f"not a pull request payload: {exc.errors()[0]['msg']}") from exc
    pull, review = payload.pull_request, payload.review
    return PullRequestFacts(
        repository=repository_of(event, payload.repository),
        action=payload.action,
        number=pull.number or payload.number,
        head_ref=pull.head.ref,
        head_sha=pull.head.sha,
        labels=tuple(label.name for label in pull.labels),
        label=payload.label.name if payload.label else None,
        sender=login_of(payload.sender),
        review_state=review.state.lower() if review else None,
        reviewer=(review.user.login if review and review.user else None),
    )
