"""Repositories: create (for a user or an organisation), get, delete.

A new repository gets GitHub's nine default labels, as the recorded octokit
``labels`` scenario shows: listing a fresh repository's labels returns them.
Organisations are taken to exist (like branches): the first mention of an
organisation login, by ``GET /orgs/{org}`` or a repository created in it, makes
it. GitHub has no API to create one, and the emulator must be seedable through
the API alone.
"""

from __future__ import annotations

import re

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.records import Label, Repo, RepoRef, User
from remedy.local.emulators.github.store import Store

REPO_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
CREATE_DOCS = (
    "https://docs.github.com/rest/repos/repos#create-a-repository-for-the-authenticated-user"
)

# (name, color, description) of GitHub's default labels, in their listed order.
DEFAULT_LABELS: tuple[tuple[str, str, str], ...] = (
    ("bug", "d73a4a", "Something isn't working"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("duplicate", "cfd3d7", "This issue or pull request already exists"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("help wanted", "008672", "Extra attention is needed"),
    ("invalid", "e4e669", "This doesn't seem right"),
    ("question", "d876e3", "Further information is requested"),
    ("wontfix", "ffffff", "This will not be worked on"),
)


class Repos:
    def __init__(self, store: Store) -> None:
        self._store = store

    def create(
        self,
        ref: RepoRef,
        *,
        actor: str,
        organization: bool = False,
        private: bool = False,
        description: str | None = None,
        default_branch: str = "main",
    ) -> Repo:
        """Create ``ref``; a user repository must belong to ``actor``."""
        store = self._store
        with store.lock:
            if not REPO_NAME.match(ref.name) or ref.name in {".", ".."}:
                raise errors.validation_failed(
                    errors.invalid_field("Repository", "name"), documentation_url=CREATE_DOCS
                )
            creator = store.ensure_user(actor)
            owner = self._owner(ref.owner, creator=creator, organization=organization)
            key = f"{owner.login}/{ref.name}".lower()
            if key in store.repos:
                raise errors.ApiError(
                    422,
                    "Repository creation failed.",
                    errors=[
                        {
                            "resource": "Repository",
                            "code": "custom",
                            "field": "name",
                            "message": "name already exists on this account",
                        }
                    ],
                    documentation_url=CREATE_DOCS,
                )
            repo = Repo(
                id=store.next_id(),
                owner=owner,
                name=ref.name,
                private=private,
                description=description,
                default_branch=default_branch,
            )
            for name, color, text in DEFAULT_LABELS:
                repo.labels[name.casefold()] = Label(
                    id=store.next_id(), name=name, color=color, description=text, default=True
                )
            store.repos[key] = repo
            store.record(f"{repo.full_name}:created")
            return repo

    def _owner(self, login: str, *, creator: User, organization: bool) -> User:
        if not organization:
            if login.lower() != creator.login.lower():
                raise errors.not_found(CREATE_DOCS)
            return creator
        existing = self._store.users.get(login.lower())
        if existing is not None and existing.type != "Organization":
            raise errors.not_found(
                "https://docs.github.com/rest/repos/repos#create-an-organization-repository"
            )
        return self._store.ensure_user(login, type="Organization")

    def get(self, ref: RepoRef) -> Repo:
        return self._store.repo(ref)

    def delete(self, ref: RepoRef) -> None:
        store = self._store
        with store.lock:
            repo = store.repo(ref)
            del store.repos[repo.full_name.lower()]
            store.record(f"{repo.full_name}:deleted")
