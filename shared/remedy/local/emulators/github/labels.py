"""Labels: a repository's label set, and the labels on one issue or pull request.

The rules remedy's label updates stand on, as GitHub documents them
(https://docs.github.com/rest/issues/labels):

- adding names a repository does not have yet creates them (color ``ededed``) and
  answers with the issue's full label list;
- removing one answers with the labels that remain, and 404 ``Label does not exist``
  when the label is not on the issue (so "already gone" is recognisable);
- names match case-insensitively; the repository's spelling wins.

An issue's labels are kept sorted by name, which is the order GitHub lists them in
(the octokit ``add-labels-to-issue`` recording adds ``Foo, bAr, baZ`` and gets them
back in that code-point order).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.records import Issue, IssueRef, Label, Repo, RepoRef
from remedy.local.emulators.github.store import Store

COLOR = re.compile(r"^#?([0-9A-Fa-f]{6})$")
MAX_NAME = 50
NEW_LABEL_COLOR = "ededed"
CREATE_DOCS = "https://docs.github.com/rest/reference/issues#create-a-label"
REMOVE_DOCS = "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"


def checked_name(name: str, docs: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise errors.validation_failed(
            errors.invalid_field("Label", "name", "missing_field"), documentation_url=docs
        )
    if len(name) > MAX_NAME:
        raise errors.validation_failed(
            errors.invalid_field("Label", "name"), documentation_url=docs
        )
    return name


def _color(color: str, docs: str) -> str:
    match = COLOR.match(color) if isinstance(color, str) else None
    if match is None:
        raise errors.validation_failed(
            errors.invalid_field("Label", "color"), documentation_url=docs
        )
    return match.group(1)


class Labels:
    def __init__(self, store: Store) -> None:
        self._store = store

    # -- the repository's labels --------------------------------------------------

    def in_repo(self, ref: RepoRef) -> list[Label]:
        with self._store.lock:
            return sorted(self._store.repo(ref).labels.values(), key=lambda label: label.name)

    def get(self, ref: RepoRef, name: str) -> Label:
        with self._store.lock:
            found = self._store.repo(ref).labels.get(name.casefold())
        if found is None:
            raise errors.not_found("https://docs.github.com/rest/issues/labels#get-a-label")
        return found

    def create(
        self, ref: RepoRef, name: str, *, color: str, description: str | None = None
    ) -> Label:
        with self._store.lock:
            repo = self._store.repo(ref)
            name = checked_name(name, CREATE_DOCS)
            color = _color(color, CREATE_DOCS)
            if name.casefold() in repo.labels:
                raise errors.validation_failed(
                    errors.invalid_field("Label", "name", "already_exists"),
                    documentation_url=CREATE_DOCS,
                )
            return self._add_to_repo(repo, name, color=color, description=description)

    def _add_to_repo(
        self, repo: Repo, name: str, *, color: str, description: str | None = None
    ) -> Label:
        label = Label(id=self._store.next_id(), name=name, color=color, description=description)
        repo.labels[name.casefold()] = label
        self._store.record(f"{repo.full_name}:+repolabel:{name}")
        return label

    def update(
        self,
        ref: RepoRef,
        name: str,
        *,
        new_name: str | None = None,
        color: str | None = None,
        description: str | None = None,
    ) -> Label:
        docs = "https://docs.github.com/rest/issues/labels#update-a-label"
        with self._store.lock:
            repo = self._store.repo(ref)
            label = self.get(ref, name)
            if new_name is not None:
                new_name = checked_name(new_name, docs)
                clash = repo.labels.get(new_name.casefold())
                if clash is not None and clash is not label:
                    raise errors.validation_failed(
                        errors.invalid_field("Label", "name", "already_exists"),
                        documentation_url=docs,
                    )
            checked_color = None if color is None else _color(color, docs)
            if new_name is not None:
                del repo.labels[label.name.casefold()]
                label.name = new_name
                repo.labels[new_name.casefold()] = label
            if checked_color is not None:
                label.color = checked_color
            if description is not None:
                label.description = description
            for issue in repo.issues.values():
                issue.labels.sort(key=lambda each: each.name)
            self._store.record(f"{repo.full_name}:~repolabel:{name}")
            return label

    def delete(self, ref: RepoRef, name: str) -> None:
        with self._store.lock:
            repo = self._store.repo(ref)
            label = self.get(ref, name)
            del repo.labels[label.name.casefold()]
            for issue in repo.issues.values():
                if label in issue.labels:
                    issue.labels.remove(label)
            self._store.record(f"{repo.full_name}:-repolabel:{label.name}")

    # -- the labels on one issue or pull request ----------------------------------

    def on_issue(self, ref: IssueRef) -> list[Label]:
        with self._store.lock:
            return list(self._store.issue(ref).labels)

    def add(self, ref: IssueRef, names: Iterable[str]) -> list[Label]:
        """Add ``names`` (creating missing repository labels); the full list after."""
        docs = "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue"
        wanted = [checked_name(name, docs) for name in names]
        with self._store.lock:
            issue = self._store.issue(ref)
            for name in wanted:
                self._attach(issue, self._resolve(issue.repo, name))
            return list(issue.labels)

    def replace(self, ref: IssueRef, names: Iterable[str]) -> list[Label]:
        """Make the issue's labels exactly ``names`` (GitHub's "set labels")."""
        docs = "https://docs.github.com/rest/issues/labels#set-labels-for-an-issue"
        wanted = [checked_name(name, docs) for name in names]
        with self._store.lock:
            issue = self._store.issue(ref)
            keep = [self._resolve(issue.repo, name) for name in wanted]
            for label in list(issue.labels):
                if label not in keep:
                    self._detach(issue, label)
            for label in keep:
                self._attach(issue, label)
            return list(issue.labels)

    def remove(self, ref: IssueRef, name: str) -> list[Label]:
        """Remove one label; the labels that remain. 404 if it is not on the issue."""
        with self._store.lock:
            issue = self._store.issue(ref)
            for label in issue.labels:
                if label.name.casefold() == name.casefold():
                    self._detach(issue, label)
                    return list(issue.labels)
        raise errors.ApiError(404, "Label does not exist", documentation_url=REMOVE_DOCS)

    def clear(self, ref: IssueRef) -> None:
        with self._store.lock:
            issue = self._store.issue(ref)
            for label in list(issue.labels):
                self._detach(issue, label)

    def _resolve(self, repo: Repo, name: str) -> Label:
        found = repo.labels.get(name.casefold())
        return found or self._add_to_repo(repo, name, color=NEW_LABEL_COLOR)

    def _attach(self, issue: Issue, label: Label) -> None:
        if label in issue.labels:
            return
        issue.labels.append(label)
        issue.labels.sort(key=lambda each: each.name)
        issue.touch()
        self._store.record(f"{issue.ref}:+label:{label.name}")

    def _detach(self, issue: Issue, label: Label) -> None:
        issue.labels.remove(label)
        issue.touch()
        self._store.record(f"{issue.ref}:-label:{label.name}")
