"""Feedback events built from GitHub's real payloads, and reading back their effects.

The reference issue_comment payloads are all on plain issues and the review payload is
a "commented" review by someone else; each case rewrites one into the shape it needs
(on task 12's pull request, by Tess, with the marker, ...) and wraps it as
webhook-gateway does (raw body) or as GitHubSource does (no ``issue.pull_request``).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from typing import Any

from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.domain.remediation import RemediationState
from tests.chain import seed
from tests.conftest import REFERENCE
from tests.support.events import post
from tests.support.waiting import eventually

WEBHOOKS = REFERENCE / "github-webhooks"
BRANCH = "task-12-fix-login"
TESS = "5DLabs-Tess[bot]"
HEAD = "2" * 40
MARKER_BODY = "## QA review\n\n### 🔴 **Required Changes**\n\n- the login form loses its state\n"
_PAYLOADS = {
    "created": "issue_comment__created.payload.json",
    "edited": "issue_comment__edited.payload.json",
    "deleted": "issue_comment__deleted.payload.json",
}
RETRY_BACKOFF_S = 0.02
_deliveries = iter(range(1, 1_000_000))
_lock = threading.Lock()


def delivery() -> str:
    with _lock:
        return f"d-{next(_deliveries)}-{time.monotonic_ns()}"


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((WEBHOOKS / name).read_text())
    return data


def _on_repository(payload: dict[str, Any]) -> None:
    owner, name = seed.REPO.split("/")
    repository = payload["repository"]
    repository.update(full_name=seed.REPO, name=name, html_url=f"https://github.com/{seed.REPO}")
    repository["owner"]["login"] = owner


def _labels(names: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{"id": 1000 + i, "name": name, "color": "ededed"} for i, name in enumerate(names)]


def comment_payload(
    *,
    comment_id: int,
    number: int,
    action: str = "created",
    author: str = TESS,
    body: str = MARKER_BODY,
    labels: tuple[str, ...] = ("task-12",),
    on_pull_request: bool = True,
    github_source: bool = False,
) -> dict[str, Any]:
    payload = copy.deepcopy(_load(_PAYLOADS[action]))
    _on_repository(payload)
    issue, comment = payload["issue"], payload["comment"]
    kind = "pull" if on_pull_request else "issues"
    issue.update(number=number, labels=_labels(labels))
    issue["html_url"] = f"https://github.com/{seed.REPO}/{kind}/{number}"
    if on_pull_request and not github_source:
        # GitHub marks an issue that is a pull request so; GitHubSource's struct drops it
        api = f"https://api.github.com/repos/{seed.REPO}/pulls/{number}"
        issue["pull_request"] = {"url": api, "html_url": issue["html_url"]}
    comment.update(id=comment_id, body=body)
    comment["html_url"] = f"{issue['html_url']}#issuecomment-{comment_id}"
    comment["user"]["login"] = author
    payload["sender"]["login"] = author
    return payload


def review_payload(
    *,
    review_id: int,
    number: int,
    state: str = "changes_requested",
    action: str = "submitted",
    author: str = TESS,
    labels: tuple[str, ...] = ("task-12",),
    branch: str = BRANCH,
) -> dict[str, Any]:
    payload = copy.deepcopy(_load("pull_request_review__submitted.payload.json"))
    _on_repository(payload)
    payload["action"] = action
    review, pull = payload["review"], payload["pull_request"]
    review.update(id=review_id, state=state, body="🔴 Required Changes: see the comments")
    review["user"]["login"] = author
    pull.update(number=number, labels=_labels(labels))
    pull["head"].update(ref=branch, sha=HEAD)
    payload["sender"]["login"] = author
    return payload


def event(kind: str, payload: dict[str, Any], *, delivery_id: str | None = None) -> CloudEvent:
    return CloudEvent(
        {
            "type": f"dev.knative.source.github.{kind}",
            "source": f"https://github.com/{seed.REPO}",
            "id": delivery_id or delivery(),
            "subject": str(payload.get("issue", payload.get("pull_request", {})).get("number")),
        },
        payload,
    )


def comment(**options: Any) -> CloudEvent:
    delivery_id = options.pop("delivery_id", None)
    return event("issue_comment", comment_payload(**options), delivery_id=delivery_id)


def review(**options: Any) -> CloudEvent:
    delivery_id = options.pop("delivery_id", None)
    return event("pull_request_review", review_payload(**options), delivery_id=delivery_id)


def deliver(app: Any, ce: CloudEvent, *, deadline_s: float = 20.0) -> Any:
    """As the broker does: redeliver on 409/503 (lock busy, retry later) until answered."""
    answers: list[Any] = []

    def answered() -> bool:
        answers.append(post(app, ce))
        return answers[-1].status_code not in (409, 503)

    eventually(
        answered,
        timeout=deadline_s,
        every=RETRY_BACKOFF_S,  # the broker's delivery backoff, not a synchronisation
        what=f"an answer other than 409/503 to {ce['id']}",
        describe=lambda: f"last answer: {answers[-1].status_code} {answers[-1].get_data()!r}",
    )
    return answers[-1]


def remediation_runs(custom: client.CustomObjectsApi) -> dict[str, dict[str, Any]]:
    listing: Any = custom.list_namespaced_custom_object(
        *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], label_selector="trigger-type"
    )
    return {item["metadata"]["name"]: item for item in listing["items"]}


def coderun(custom: client.CustomObjectsApi, name: str) -> dict[str, Any] | None:
    try:
        found: Any = custom.get_namespaced_custom_object(
            *seed.CODERUN[:2], seed.AGENT_NS, seed.CODERUN[2], name
        )
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return dict(found)


def data_of(ce: CloudEvent) -> dict[str, Any]:
    data = ce.get_data()
    assert isinstance(data, dict), data
    return data


def state(api: client.ApiClient, task: int = 12) -> RemediationState | None:
    return KubeRemediationStates(api, namespace=seed.STATE_NS).load(task)[0]
