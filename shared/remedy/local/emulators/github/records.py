"""The records the GitHub model keeps: users, repositories, issues, labels, reviews.

They are plain mutable dataclasses that only :mod:`.model` changes (under its lock)
and only :mod:`.shapes` turns into JSON. A pull request is an issue with pull fields,
exactly as on GitHub: both share one number sequence per repository, and the issue
endpoints (labels, comments) accept a pull request's number.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

UserType = Literal["User", "Organization", "Bot"]
ReviewState = Literal["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "PENDING"]


def now() -> str:
    """GitHub's timestamp format: ISO 8601, UTC, second precision, ``Z`` suffix."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def fake_sha(*parts: str) -> str:
    """A stable 40-hex commit id for a branch nobody pushed (the emulator has no git)."""
    return hashlib.sha1("\0".join(parts).encode(), usedforsecurity=False).hexdigest()


@dataclass(frozen=True, slots=True)
class RepoRef:
    """``owner/name`` of a repository; ``str()`` is how the timeline names it."""

    owner: str
    name: str

    @classmethod
    def parse(cls, full_name: str) -> RepoRef:
        owner, sep, name = full_name.partition("/")
        if not sep or not owner or not name or "/" in name:
            raise ValueError(f"expected 'owner/name', got {full_name!r}")
        return cls(owner, name)

    def issue(self, number: int) -> IssueRef:
        return IssueRef(self.owner, self.name, number)

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass(frozen=True, slots=True)
class IssueRef:
    """An issue or pull request number in a repository: ``owner/name#number``."""

    owner: str
    name: str
    number: int

    @property
    def repo(self) -> RepoRef:
        return RepoRef(self.owner, self.name)

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}#{self.number}"


@dataclass(slots=True)
class User:
    login: str
    id: int
    type: UserType = "User"
    created_at: str = field(default_factory=now)


@dataclass(slots=True)
class Label:
    id: int
    name: str
    color: str
    description: str | None = None
    default: bool = False


@dataclass(slots=True)
class Comment:
    id: int
    issue_number: int
    user: User
    body: str
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)


@dataclass(slots=True)
class Review:
    id: int
    user: User
    body: str
    state: ReviewState
    commit_id: str
    submitted_at: str | None


@dataclass(slots=True)
class PullFields:
    """What a pull request adds to its issue."""

    id: int
    head_repo: Repo = field(repr=False)
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    draft: bool = False
    merged_at: str | None = None
    reviews: list[Review] = field(default_factory=list)


@dataclass(slots=True)
class Issue:
    id: int
    number: int
    repo: Repo = field(repr=False)
    title: str
    user: User
    body: str | None = None
    state: Literal["open", "closed"] = "open"
    labels: list[Label] = field(default_factory=list)
    comments: int = 0
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    closed_at: str | None = None
    pull: PullFields | None = None

    @property
    def ref(self) -> IssueRef:
        return IssueRef(self.repo.owner.login, self.repo.name, self.number)

    def touch(self) -> None:
        self.updated_at = now()


@dataclass(slots=True)
class Repo:
    id: int
    owner: User
    name: str
    private: bool = False
    description: str | None = None
    default_branch: str = "main"
    created_at: str = field(default_factory=now)
    updated_at: str = field(default_factory=now)
    # Keyed by casefolded name: GitHub label names are case-insensitive.
    labels: dict[str, Label] = field(default_factory=dict, repr=False)
    issues: dict[int, Issue] = field(default_factory=dict, repr=False)
    comments: list[Comment] = field(default_factory=list, repr=False)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner.login}/{self.name}"

    @property
    def ref(self) -> RepoRef:
        return RepoRef(self.owner.login, self.name)

    @property
    def open_issues_count(self) -> int:
        return sum(1 for issue in self.issues.values() if issue.state == "open")
