"""The in-memory GitHub: one object that tests seed and inspect and the server serves.

``GitHubModel`` groups the operations by concern (``repos``, ``labels``, ``issues``,
``comments``, ``pulls``, ``reviews``) over one shared, lock-protected store, so the
objects a test reads directly are the very ones the HTTP API answers from. Every
write is also recorded on :attr:`GitHubModel.timeline` as a plain string::

    o/r:created                     o/r#5:+label:ready-for-qa
    o/r#5:opened-pull:feature->main o/r#5:-label:ready-for-qa
    o/r#5:comment:<body>            o/r#5:review:APPROVED:5DLabs-Tess
    o/r#5:head:<sha>                o/r#5:closed
"""

from __future__ import annotations

from remedy.local.emulators.github.issues import Comments, Issues
from remedy.local.emulators.github.labels import Labels
from remedy.local.emulators.github.pulls import Pulls, Reviews
from remedy.local.emulators.github.records import User, UserType
from remedy.local.emulators.github.repos import Repos
from remedy.local.emulators.github.store import Store

DEFAULT_LOGIN = "remedy-bot"


class GitHubModel:
    def __init__(self, *, login: str = DEFAULT_LOGIN) -> None:
        self.store = Store()
        self.lock = self.store.lock
        self.default_login = self.store.ensure_user(login).login
        self.repos = Repos(self.store)
        self.labels = Labels(self.store)
        self.issues = Issues(self.store, self.labels)
        self.comments = Comments(self.store)
        self.pulls = Pulls(self.store, self.issues)
        self.reviews = Reviews(self.store, self.pulls)

    @property
    def timeline(self) -> list[str]:
        """A copy of every write effect so far, oldest first."""
        with self.lock:
            return list(self.store.timeline)

    def clear_timeline(self) -> None:
        with self.lock:
            self.store.timeline.clear()

    def user(self, login: str) -> User:
        return self.store.user(login)

    def add_user(self, login: str, *, type: UserType | None = None) -> User:
        return self.store.ensure_user(login, type=type)

    def add_token(self, token: str, login: str) -> User:
        """Let ``token`` authenticate as ``login`` (created if new)."""
        return self.store.add_token(token, login)

    def user_for_token(self, token: str) -> User | None:
        return self.store.user_for_token(token)

    def reset(self) -> None:
        """Drop all repositories and the timeline; users and tokens stay."""
        self.store.reset()
