"""REST endpoints for pull requests and pull request reviews."""

from __future__ import annotations

from remedy.local.emulators.github import pull_shape, shapes
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.wire import (
    Call,
    Handler,
    Reply,
    created,
    flag,
    ok,
    paged,
    state,
    text,
)


def list_pulls(backend: Backend, call: Call) -> Reply:
    """``state`` (open|closed|all), ``head`` (``owner:branch``), ``base``, paged."""
    query = call.query
    model = backend.model
    with model.lock:
        pulls = model.pulls.list(
            call.repo,
            state=query.get("state", "open"),
            head=query.get("head"),
            base=query.get("base"),
            sort=query.get("sort", "created"),
            direction=query.get("direction"),
        )
        return paged(call, pulls, lambda each: pull_shape.pull(each, call.base, full=False))


def create_pull(backend: Backend, call: Call) -> Reply:
    body = call.object()
    model = backend.model
    with model.lock:
        pull = model.pulls.create(
            call.repo,
            title=text(body, "title") or "",
            head=text(body, "head") or "",
            base=text(body, "base") or "",
            actor=call.actor.login,
            body=text(body, "body"),
            draft=flag(body, "draft"),
        )
        return created(pull_shape.pull(pull, call.base))


def get_pull(backend: Backend, call: Call) -> Reply:
    with backend.model.lock:
        return ok(pull_shape.pull(backend.model.pulls.get(call.issue), call.base))


def update_pull(backend: Backend, call: Call) -> Reply:
    body = call.object()
    new_state = state(body)
    model = backend.model
    with model.lock:
        pull = model.pulls.update(
            call.issue,
            title=text(body, "title"),
            body=text(body, "body"),
            state=new_state,
            base=text(body, "base"),
        )
        return ok(pull_shape.pull(pull, call.base))


def create_review(backend: Backend, call: Call) -> Reply:
    """``event`` APPROVE / REQUEST_CHANGES / COMMENT, or none for a pending review.

    GitHub answers 200 (not 201) here: docs.github.com/rest/pulls/reviews.
    """
    body = call.object()
    model = backend.model
    with model.lock:
        pull = model.pulls.get(call.issue)
        review = model.reviews.create(
            call.issue,
            actor=call.actor.login,
            event=text(body, "event"),
            body=text(body, "body"),
            commit_id=text(body, "commit_id"),
        )
        return ok(shapes.review(review, pull, call.base))


def list_reviews(backend: Backend, call: Call) -> Reply:
    model = backend.model
    with model.lock:
        pull = model.pulls.get(call.issue)
        reviews = model.reviews.list(call.issue, viewer=call.actor.login)
        return paged(call, reviews, lambda each: shapes.review(each, pull, call.base))


_PULL = "/repos/{owner}/{repo}/pulls/{number}"

ROUTES: list[tuple[str, str, Handler]] = [
    ("GET", "/repos/{owner}/{repo}/pulls", list_pulls),
    ("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    ("GET", _PULL, get_pull),
    ("PATCH", _PULL, update_pull),
    ("GET", f"{_PULL}/reviews", list_reviews),
    ("POST", f"{_PULL}/reviews", create_review),
]
