"""Issues and issue comments (pull requests are issues too: same numbers, same comments).

Issue numbers come from the repository's one sequence that pull requests share, so
``GET /repos/o/r/issues/5`` answers for pull request 5 with a ``pull_request`` key,
as GitHub does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.labels import Labels, checked_name
from remedy.local.emulators.github.records import (
    Comment,
    Issue,
    IssueRef,
    Repo,
    RepoRef,
    now,
)
from remedy.local.emulators.github.store import Store

IssueState = Literal["open", "closed"]
CREATE_DOCS = "https://docs.github.com/rest/issues/issues#create-an-issue"
COMMENT_DOCS = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"


def required_title(title: object, resource: str, docs: str) -> str:
    if not isinstance(title, str) or not title.strip():
        raise errors.validation_failed(
            errors.invalid_field(resource, "title", "missing_field"), documentation_url=docs
        )
    return title


def checked_state(state: str | None, resource: str) -> None:
    """An issue or pull request is edited to ``open`` or ``closed``, nothing else."""
    if state is not None and state not in ("open", "closed"):
        raise errors.validation_failed(errors.invalid_field(resource, "state"))


class Issues:
    def __init__(self, store: Store, labels: Labels) -> None:
        self._store = store
        self._labels = labels

    def create(
        self,
        ref: RepoRef,
        *,
        title: str,
        actor: str,
        body: str | None = None,
        labels: Iterable[str] = (),
    ) -> Issue:
        with self._store.lock:
            repo = self._store.repo(ref)
            title = required_title(title, "Issue", CREATE_DOCS)
            names = [checked_name(name, CREATE_DOCS) for name in labels]
            issue = self.open(repo, title=title, actor=actor, body=body)
            self._store.record(f"{issue.ref}:opened-issue")
            self._labels.add(issue.ref, names)
            return issue

    def open(self, repo: Repo, *, title: str, actor: str, body: str | None) -> Issue:
        """File an issue under the next number of ``repo``'s one sequence (lock held); a
        pull request is such an issue with its ``pull`` fields set."""
        issue = Issue(
            id=self._store.next_id(),
            number=repo.next_number,
            repo=repo,
            title=title,
            user=self._store.ensure_user(actor),
            body=body,
        )
        repo.next_number += 1
        repo.issues[issue.number] = issue
        return issue

    def get(self, ref: IssueRef) -> Issue:
        return self._store.issue(ref)

    def update(
        self,
        ref: IssueRef,
        *,
        title: str | None = None,
        body: str | None = None,
        state: IssueState | None = None,
        labels: Iterable[str] | None = None,
    ) -> Issue:
        checked_state(state, "Issue")
        if title is not None:
            title = required_title(title, "Issue", CREATE_DOCS)
        names = None if labels is None else [checked_name(name, CREATE_DOCS) for name in labels]
        with self._store.lock:
            issue = self._store.issue(ref)
            if title is not None:
                issue.title = title
            if body is not None:
                issue.body = body
            if names is not None:
                self._labels.replace(ref, names)
            if state is not None:
                self.set_state(issue, state)
            issue.touch()
            return issue

    def set_state(self, issue: Issue, state: IssueState) -> None:
        if state == issue.state:
            return
        issue.state = state
        issue.closed_at = now() if state == "closed" else None
        self._store.record(f"{issue.ref}:{'closed' if state == 'closed' else 'reopened'}")


class Comments:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(self, ref: IssueRef, body: str, *, actor: str) -> Comment:
        if not isinstance(body, str) or not body.strip():
            raise errors.validation_failed(
                {
                    "resource": "IssueComment",
                    "code": "unprocessable",
                    "field": "data",
                    "message": "Body cannot be blank",
                },
                documentation_url=COMMENT_DOCS,
            )
        with self._store.lock:
            issue = self._store.issue(ref)
            comment = Comment(
                id=self._store.next_id(),
                issue_number=issue.number,
                user=self._store.ensure_user(actor),
                body=body,
            )
            issue.repo.comments.append(comment)
            issue.comments += 1
            issue.touch()
            self._store.record(f"{ref}:comment:{body}")
            return comment

    def list(self, ref: IssueRef) -> list[Comment]:
        with self._store.lock:
            issue = self._store.issue(ref)
            return [each for each in issue.repo.comments if each.issue_number == issue.number]
