"""REST endpoints for issues, the labels on an issue, and issue comments.

All of them accept a pull request's number too: on GitHub a pull request's labels
and conversation comments live on its issue.
"""

from __future__ import annotations

from collections.abc import Callable

from remedy.local.emulators.github import errors, shapes
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.labels import Labels
from remedy.local.emulators.github.records import Label
from remedy.local.emulators.github.wire import (
    Call,
    Handler,
    Reply,
    created,
    label_names,
    no_content,
    ok,
    paged,
    state,
    text,
)


def _labels_after(backend: Backend, call: Call, change: Callable[[Labels], list[Label]]) -> Reply:
    """200 with the issue's labels as ``change`` (made under the model's lock) leaves them."""
    model = backend.model
    with model.lock:
        issue = model.issues.get(call.issue)
        return ok([shapes.label(each, issue.repo, call.base) for each in change(model.labels)])


def create_issue(backend: Backend, call: Call) -> Reply:
    body = call.object()
    model = backend.model
    with model.lock:
        issue = model.issues.create(
            call.repo,
            title=text(body, "title") or "",
            actor=call.actor.login,
            body=text(body, "body"),
            labels=label_names(body.get("labels", [])),
        )
        return created(shapes.issue(issue, call.base))


def get_issue(backend: Backend, call: Call) -> Reply:
    with backend.model.lock:
        return ok(shapes.issue(backend.model.issues.get(call.issue), call.base))


def update_issue(backend: Backend, call: Call) -> Reply:
    body = call.object()
    new_state = state(body)
    labels = body.get("labels")
    model = backend.model
    with model.lock:
        issue = model.issues.update(
            call.issue,
            title=text(body, "title"),
            body=text(body, "body"),
            state=new_state,
            labels=None if labels is None else label_names(labels),
        )
        return ok(shapes.issue(issue, call.base))


def list_issue_labels(backend: Backend, call: Call) -> Reply:
    model = backend.model
    with model.lock:
        issue = model.issues.get(call.issue)
        return paged(
            call, list(issue.labels), lambda each: shapes.label(each, issue.repo, call.base)
        )


def add_issue_labels(backend: Backend, call: Call) -> Reply:
    """200 with the issue's full label list (octokit ``add-labels-to-issue`` recording)."""
    names = label_names(call.json())
    return _labels_after(backend, call, lambda labels: labels.add(call.issue, names))


def set_issue_labels(backend: Backend, call: Call) -> Reply:
    names = label_names(call.json())
    return _labels_after(backend, call, lambda labels: labels.replace(call.issue, names))


def remove_issue_label(backend: Backend, call: Call) -> Reply:
    """200 with the labels that remain; 404 ``Label does not exist`` if it was not there."""
    name = call.args["name"]
    return _labels_after(backend, call, lambda labels: labels.remove(call.issue, name))


def clear_issue_labels(backend: Backend, call: Call) -> Reply:
    backend.model.labels.clear(call.issue)
    return no_content()


def create_comment(backend: Backend, call: Call) -> Reply:
    body = call.object()
    model = backend.model
    with model.lock:
        issue = model.issues.get(call.issue)
        comment = model.comments.create(
            call.issue, text(body, "body", required=True) or "", actor=call.actor.login
        )
        return created(shapes.comment(comment, issue.repo, call.base))


def list_comments(backend: Backend, call: Call) -> Reply:
    model = backend.model
    with model.lock:
        issue = model.issues.get(call.issue)
        comments = model.comments.list(call.issue)
        return paged(call, comments, lambda each: shapes.comment(each, issue.repo, call.base))


def list_issues(backend: Backend, call: Call) -> Reply:
    """GitHub's "list repository issues": PRs included, every ``labels`` entry required,
    newest first (https://docs.github.com/rest/issues/issues#list-repository-issues)."""
    state = call.query.get("state", "open")
    if state not in ("open", "closed", "all"):
        raise errors.validation_failed(errors.invalid_field("Issue", "state"))
    wanted = {name.strip().casefold() for name in call.query.get("labels", "").split(",")}
    wanted.discard("")
    model = backend.model
    with model.lock:
        found = [
            issue
            for issue in model.repos.get(call.repo).issues.values()
            if state in ("all", issue.state)
            and wanted <= {label.name.casefold() for label in issue.labels}
        ]
        found.sort(key=lambda issue: (issue.created_at, issue.number), reverse=True)
        return paged(call, found, lambda issue: shapes.issue(issue, call.base))


_ISSUE = "/repos/{owner}/{repo}/issues/{number}"

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/repos/{owner}/{repo}/issues", list_issues),
    ("POST", "/repos/{owner}/{repo}/issues", create_issue),
    ("GET", _ISSUE, get_issue),
    ("PATCH", _ISSUE, update_issue),
    ("GET", f"{_ISSUE}/labels", list_issue_labels),
    ("POST", f"{_ISSUE}/labels", add_issue_labels),
    ("PUT", f"{_ISSUE}/labels", set_issue_labels),
    ("DELETE", f"{_ISSUE}/labels", clear_issue_labels),
    ("DELETE", f"{_ISSUE}/labels/{{name}}", remove_issue_label),
    ("GET", f"{_ISSUE}/comments", list_comments),
    ("POST", f"{_ISSUE}/comments", create_comment),
]
