"""Validated identifiers: repositories, tasks, logins, delivery ids.

Every identifier that ends up in a label selector, a resource name, a Redis key or a
URL passes through here first, so malformed or hostile input is refused at the edge
with a message a person can act on instead of reaching an outside system.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Self

# GitHub: owner 1-39 chars of [A-Za-z0-9-], not starting with '-'; repository name
# 1-100 chars of [A-Za-z0-9._-], and never '.' or '..'.
_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
# GitHub logins of users and apps ("5DLabs-Rex[bot]").
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$", re.IGNORECASE)
# X-GitHub-Delivery is a GUID; other producers (tests, `remedy invoke`) use similar tokens.
_DELIVERY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")

MAX_TASK_ID = 1_000_000
"""Task ids are small positive integers; anything larger is a typo or an attack."""


class InvalidIdentifier(ValueError):
    """An identifier failed validation; the message says which and why."""


@dataclass(frozen=True, order=True)
class Repository:
    """A GitHub repository, ``owner/name``."""

    owner: str
    name: str

    @classmethod
    def parse(cls, full_name: str) -> Self:
        owner, sep, name = full_name.partition("/")
        if not sep or not _OWNER.match(owner) or not _REPO.match(name) or name in {".", ".."}:
            raise InvalidIdentifier(f"repository {full_name!r} is not a valid GitHub 'owner/name'")
        return cls(owner=owner, name=name)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    @property
    def html_url(self) -> str:
        return f"https://github.com/{self.full_name}"

    def __str__(self) -> str:
        return self.full_name


@dataclass(frozen=True, order=True)
class TaskRef:
    """One task of one repository: the unit of locking, epochs and remediation state."""

    repository: Repository
    task_id: int

    def __post_init__(self) -> None:
        validate_task_id(self.task_id)

    @property
    def key(self) -> str:
        """Stable text form for Redis keys and logs: ``owner/name#id``."""
        return f"{self.repository.full_name}#{self.task_id}"


def validate_task_id(task_id: int) -> int:
    if isinstance(task_id, bool) or not isinstance(task_id, int):
        raise InvalidIdentifier(f"task id {task_id!r} is not an integer")
    if not 1 <= task_id <= MAX_TASK_ID:
        raise InvalidIdentifier(f"task id {task_id} is outside 1..{MAX_TASK_ID}")
    return task_id


def validate_pull_number(number: int) -> int:
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise InvalidIdentifier(f"pull request number {number!r} is not a positive integer")
    return number


def validate_login(login: str) -> str:
    if not _LOGIN.match(login):
        raise InvalidIdentifier(f"{login!r} is not a valid GitHub login")
    return login


def validate_delivery_id(delivery_id: str) -> str:
    if not _DELIVERY.match(delivery_id):
        raise InvalidIdentifier(
            f"delivery id {delivery_id[:80]!r} must be 1-128 characters of letters, digits, '._:-'"
        )
    return delivery_id


def validate_sha(sha: str) -> str:
    if not _SHA.match(sha):
        raise InvalidIdentifier(f"{sha[:80]!r} is not a full hexadecimal commit SHA")
    return sha


class LoginSet:
    """A set of GitHub logins compared case-insensitively, as GitHub compares them."""

    def __init__(self, logins: tuple[str, ...] | list[str]) -> None:
        self.logins = tuple(validate_login(login.strip()) for login in logins if login.strip())
        self._folded = frozenset(login.casefold() for login in self.logins)

    def __contains__(self, login: object) -> bool:
        return isinstance(login, str) and login.casefold() in self._folded

    def __repr__(self) -> str:
        return f"LoginSet({', '.join(self.logins)})"


def task_lock_resource(task_id: int) -> str:
    """One lock per task id: CodeRuns, the state ConfigMap and the workflow are keyed by it."""
    return f"remedy:lock:task:{validate_task_id(task_id)}"
