"""Pull requests and their reviews.

The emulator has no git: the branches named in ``head``/``base`` are taken to exist,
and a head commit is a stable fake SHA until the admin endpoint sets one (which is
how a test says "Rex pushed"). What GitHub refuses, the emulator refuses too:

- a second open pull request for the same head and base (422 "A pull request
  already exists for owner:branch.");
- a pull request from a branch into itself ("No commits between ...");
- approving, or requesting changes on, one's own pull request, and a second
  pending review by the same user (422 ``Unprocessable Entity``).

Listing filters by ``head`` only in GitHub's ``owner:branch`` form; a bare branch
name is silently ignored, exactly as api.github.com does (a known pitfall: see
hub4j/github-api#538, PyGithub#1566), so the emulator catches code that forgets it.
"""

from __future__ import annotations

import re
from typing import Literal

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.issues import (
    Issues,
    IssueState,
    checked_state,
    required_title,
)
from remedy.local.emulators.github.records import (
    Issue,
    IssueRef,
    PullFields,
    Repo,
    RepoRef,
    Review,
    ReviewState,
    fake_sha,
    now,
)
from remedy.local.emulators.github.store import Store

SHA = re.compile(r"^[0-9a-f]{40}$")
CREATE_DOCS = "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
LIST_DOCS = "https://docs.github.com/rest/pulls/pulls#list-pull-requests"
REVIEW_DOCS = "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request"
ListState = Literal["open", "closed", "all"]
EVENTS: dict[str | None, ReviewState] = {
    "APPROVE": "APPROVED",
    "REQUEST_CHANGES": "CHANGES_REQUESTED",
    "COMMENT": "COMMENTED",
    None: "PENDING",
}


def _branch(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise errors.validation_failed(
            errors.invalid_field("PullRequest", field, "missing_field"),
            documentation_url=CREATE_DOCS,
        )
    return value


class Pulls:
    def __init__(self, store: Store, issues: Issues) -> None:
        self._store = store
        self._issues = issues

    def create(
        self,
        ref: RepoRef,
        *,
        title: str,
        head: str,
        base: str,
        actor: str,
        body: str | None = None,
        draft: bool = False,
    ) -> Issue:
        """Open a pull request from ``head`` (``branch`` or ``owner:branch``) into ``base``."""
        with self._store.lock:
            repo = self._store.repo(ref)
            title = required_title(title, "PullRequest", CREATE_DOCS)
            head_repo, head_ref = self._head(repo, _branch(head, "head"))
            base = _branch(base, "base")
            if head_repo is repo and head_ref == base:
                raise self._custom(f"No commits between {base} and {head_ref}")
            for other in repo.issues.values():
                pull = other.pull
                if (
                    pull is not None
                    and other.state == "open"
                    and pull.head_repo is head_repo
                    and pull.head_ref == head_ref
                    and pull.base_ref == base
                ):
                    owner = head_repo.owner.login
                    raise self._custom(f"A pull request already exists for {owner}:{head_ref}.")
            issue = self._issues.open(repo, title=title, actor=actor, body=body)
            issue.pull = PullFields(
                id=self._store.next_id(),
                head_repo=head_repo,
                head_ref=head_ref,
                head_sha=fake_sha(head_repo.full_name, head_ref),
                base_ref=base,
                base_sha=fake_sha(repo.full_name, base),
                draft=draft,
            )
            self._store.record(f"{issue.ref}:opened-pull:{head_ref}->{base}")
            return issue

    def _head(self, repo: Repo, head: str) -> tuple[Repo, str]:
        owner, sep, branch = head.rpartition(":")
        if not sep or owner.lower() == repo.owner.login.lower():
            return repo, branch
        fork = self._store.repos.get(f"{owner}/{repo.name}".lower())
        if fork is None or not branch:
            raise errors.validation_failed(
                errors.invalid_field("PullRequest", "head"), documentation_url=CREATE_DOCS
            )
        return fork, branch

    @staticmethod
    def _custom(message: str) -> errors.ApiError:
        return errors.validation_failed(
            {"resource": "PullRequest", "code": "custom", "message": message},
            documentation_url=CREATE_DOCS,
        )

    def get(self, ref: IssueRef) -> Issue:
        issue = self._store.issue(ref)
        if issue.pull is None:
            raise errors.not_found("https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
        return issue

    def list(
        self,
        ref: RepoRef,
        *,
        state: str = "open",
        head: str | None = None,
        base: str | None = None,
        sort: str = "created",
        direction: str | None = None,
    ) -> list[Issue]:
        if state not in ("open", "closed", "all"):
            raise errors.validation_failed(
                errors.invalid_field("PullRequest", "state"), documentation_url=LIST_DOCS
            )
        head_owner, sep, head_ref = (head or "").partition(":")
        with self._store.lock:
            pulls = [
                issue
                for issue in self._store.repo(ref).issues.values()
                if issue.pull is not None
                and state in ("all", issue.state)
                and (base is None or issue.pull.base_ref == base)
                and (
                    not sep
                    or (
                        issue.pull.head_ref == head_ref
                        and issue.pull.head_repo.owner.login.lower() == head_owner.lower()
                    )
                )
            ]
        newest_first = (direction or ("desc" if sort == "created" else "asc")) == "desc"
        key = "updated_at" if sort == "updated" else "created_at"
        pulls.sort(key=lambda issue: (getattr(issue, key), issue.number), reverse=newest_first)
        return pulls

    def update(
        self,
        ref: IssueRef,
        *,
        title: str | None = None,
        body: str | None = None,
        state: IssueState | None = None,
        base: str | None = None,
    ) -> Issue:
        checked_state(state, "PullRequest")
        if base is not None:
            base = _branch(base, "base")
        with self._store.lock:
            issue = self.get(ref)
            assert issue.pull is not None
            if title is not None:
                title = required_title(title, "PullRequest", CREATE_DOCS)
            if base is not None:
                issue.pull.base_ref = base
                issue.pull.base_sha = fake_sha(issue.repo.full_name, base)
            return self._issues.update(ref, title=title, body=body, state=state)

    def set_head(self, ref: IssueRef, sha: str) -> Issue:
        """Move the head branch to ``sha`` (what a push does; GitHub has no API for it)."""
        if not isinstance(sha, str) or not SHA.match(sha):
            raise errors.validation_failed(errors.invalid_field("PullRequest", "sha"))
        with self._store.lock:
            issue = self.get(ref)
            assert issue.pull is not None
            issue.pull.head_sha = sha
            issue.touch()
            self._store.record(f"{ref}:head:{sha}")
            return issue


class Reviews:
    def __init__(self, store: Store, pulls: Pulls) -> None:
        self._store = store
        self._pulls = pulls

    def create(
        self,
        ref: IssueRef,
        *,
        actor: str,
        event: str | None = None,
        body: str | None = None,
        commit_id: str | None = None,
    ) -> Review:
        """Submit (or, without ``event``, start a pending) review as ``actor``."""
        if event not in EVENTS:
            raise errors.validation_failed(
                errors.invalid_field("PullRequestReview", "event"), documentation_url=REVIEW_DOCS
            )
        state = EVENTS[event]
        if state in ("CHANGES_REQUESTED", "COMMENTED") and not (body or "").strip():
            raise errors.unprocessable(
                f"Review body is required when using the {event} event", REVIEW_DOCS
            )
        with self._store.lock:
            issue = self._pulls.get(ref)
            pull = issue.pull
            assert pull is not None
            user = self._store.ensure_user(actor)
            self._check_allowed(issue, pull, user_login=user.login, state=state)
            review = Review(
                id=self._store.next_id(),
                user=user,
                body=body or "",
                state=state,
                commit_id=commit_id or pull.head_sha,
                submitted_at=None if state == "PENDING" else now(),
            )
            pull.reviews.append(review)
            self._store.record(f"{ref}:review:{state}:{user.login}")
            return review

    @staticmethod
    def _check_allowed(issue: Issue, pull: PullFields, *, user_login: str, state: str) -> None:
        own = issue.user.login.lower() == user_login.lower()
        if own and state == "APPROVED":
            raise errors.unprocessable("Can not approve your own pull request", REVIEW_DOCS)
        if own and state == "CHANGES_REQUESTED":
            raise errors.unprocessable(
                "Can not request changes on your own pull request", REVIEW_DOCS
            )
        if state == "PENDING" and any(
            each.state == "PENDING" and each.user.login.lower() == user_login.lower()
            for each in pull.reviews
        ):
            raise errors.unprocessable(
                "User can only have one pending review per pull request", REVIEW_DOCS
            )

    def list(self, ref: IssueRef, *, viewer: str | None = None) -> list[Review]:
        """Submitted reviews, plus ``viewer``'s own pending one: GitHub shows a pending
        review to its author only."""
        mine = (viewer or "").lower()
        with self._store.lock:
            pull = self._pulls.get(ref).pull
            assert pull is not None
            return [
                each
                for each in pull.reviews
                if each.state != "PENDING" or each.user.login.lower() == mine
            ]
