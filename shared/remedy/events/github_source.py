"""GitHubSource's CloudEvent conventions, so webhook-gateway's events are interchangeable.

Knative's GitHubSource emits ``type`` ``dev.knative.source.github.<X-GitHub-Event>``,
``source`` ``https://github.com/<owner>/<repo>``, ``id`` = ``X-GitHub-Delivery``, and a
per-event ``subject`` and extensions (owner, repository, sender, action, ...). Triggers
written against GitHubSource therefore also match the gateway's events. Extension
values travel as strings in binary mode, so they are rendered as strings here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from remedy.events.catalogue import GITHUB_PREFIX

Payload = Mapping[str, Any]


def event_type(github_event: str) -> str:
    return GITHUB_PREFIX + github_event


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _get(payload: Payload, *path: str) -> Any:
    node: Any = payload
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _last_path_portion(url: Any) -> str | None:
    return url.rsplit("/", 1)[-1] if isinstance(url, str) and url else None


def _common(payload: Payload) -> dict[str, Any]:
    return {
        "owner": _get(payload, "repository", "owner", "login"),
        "repository": _get(payload, "repository", "name"),
        "installation": _get(payload, "installation", "id"),
        "sender": _get(payload, "sender", "login"),
        "action": payload.get("action"),
    }


def _push(payload: Payload) -> tuple[Any, dict[str, Any]]:
    extensions = _common(payload)
    extensions.pop("action")
    extensions.update(
        pusher=_get(payload, "pusher", "name"),
        ref=payload.get("ref"),
        created=payload.get("created"),
        deleted=payload.get("deleted"),
        forced=payload.get("forced"),
    )
    return _last_path_portion(payload.get("compare")), extensions


def _pull_request(payload: Payload) -> tuple[Any, dict[str, Any]]:
    extensions = _common(payload)
    extensions.update(
        number=payload.get("number"),
        label=_get(payload, "label", "name"),
        assignee=_get(payload, "assignee", "login"),
    )
    return _get(payload, "pull_request", "number") or payload.get("number"), extensions


def _review(payload: Payload) -> tuple[Any, dict[str, Any]]:
    extensions = _common(payload)
    extensions["review"] = _get(payload, "review", "state")
    return _get(payload, "review", "id"), extensions


def _issue_comment(payload: Payload) -> tuple[Any, dict[str, Any]]:
    return _last_path_portion(_get(payload, "comment", "html_url")), _common(payload)


def _other(payload: Payload) -> tuple[Any, dict[str, Any]]:
    return payload.get("action"), _common(payload)


_BY_EVENT: dict[str, Callable[[Payload], tuple[Any, dict[str, Any]]]] = {
    "push": _push,
    "pull_request": _pull_request,
    "pull_request_review": _review,
    "issue_comment": _issue_comment,
}


def subject_and_extensions(
    github_event: str, payload: Payload
) -> tuple[str | None, dict[str, str]]:
    """GitHubSource's subject and extensions for ``github_event`` (missing ones left out)."""
    subject, extensions = _BY_EVENT.get(github_event, _other)(payload)
    rendered = {name: text for name, value in extensions.items() if (text := _text(value))}
    return _text(subject), rendered
