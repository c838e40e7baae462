"""The GitHub model's shared state: users, tokens, repositories, ids, the timeline.

Every operation module (repos, labels, issues, pulls) works on one :class:`Store`
under its re-entrant lock, so a request handler can run an operation *and* render
its result as one consistent snapshot while other server threads wait.

The timeline is prow ``fakegithub``'s idea: each write effect is recorded as a plain
string (``"o/r#5:+label:ready-for-qa"``) so tests assert on what happened to GitHub,
not on which client calls were made.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import threading

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.records import Issue, IssueRef, Repo, RepoRef, User, UserType

LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?$")


def _digest(token: str) -> bytes:
    # Tokens are looked up by digest, so the lookup time never depends on how much
    # of a guessed token matches a real one.
    return hashlib.sha256(token.encode()).digest()


class Store:
    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1000)
        self.users: dict[str, User] = {}
        self._tokens: dict[bytes, str] = {}
        self.repos: dict[str, Repo] = {}
        self.timeline: list[str] = []

    def next_id(self) -> int:
        return next(self._ids)

    def record(self, effect: str) -> None:
        self.timeline.append(effect)

    # -- users and tokens -------------------------------------------------------

    def ensure_user(self, login: str, *, type: UserType | None = None) -> User:
        """The user ``login``, created on first mention (GitHub has no API for that)."""
        with self.lock:
            found = self.users.get(login.lower())
            if found is not None:
                if type is not None and found.type != type:
                    found.type = type
                return found
            if not LOGIN.match(login):
                raise errors.validation_failed(errors.invalid_field("User", "login"))
            kind: UserType = type or ("Bot" if login.endswith("[bot]") else "User")
            user = User(login=login, id=self.next_id(), type=kind)
            self.users[login.lower()] = user
            return user

    def user(self, login: str) -> User:
        with self.lock:
            found = self.users.get(login.lower())
        if found is None:
            raise errors.not_found("https://docs.github.com/rest/users/users#get-a-user")
        return found

    def add_token(self, token: str, login: str) -> User:
        if len(token) < 8:
            raise ValueError("a token must be at least 8 characters long")
        with self.lock:
            user = self.ensure_user(login)
            self._tokens[_digest(token)] = user.login.lower()
            return user

    def user_for_token(self, token: str) -> User | None:
        with self.lock:
            login = self._tokens.get(_digest(token))
            return None if login is None else self.users[login]

    # -- repositories -------------------------------------------------------------

    def repo(self, ref: RepoRef) -> Repo:
        """The repository, looked up case-insensitively as GitHub does; else 404."""
        with self.lock:
            found = self.repos.get(f"{ref.owner}/{ref.name}".lower())
        if found is None:
            raise errors.not_found("https://docs.github.com/rest/repos/repos#get-a-repository")
        return found

    def issue(self, ref: IssueRef) -> Issue:
        """The issue or pull request numbered ``ref.number``; else 404."""
        with self.lock:
            found = self.repo(ref.repo).issues.get(ref.number)
        if found is None:
            raise errors.not_found("https://docs.github.com/rest/issues/issues#get-an-issue")
        return found

    def reset(self) -> None:
        """Forget repositories and effects; users and tokens are configuration and stay."""
        with self.lock:
            self.repos.clear()
            self.timeline.clear()
