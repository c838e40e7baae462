"""One read of a pull request's head: ``GET /repos/{o}/{r}/pulls/{n}``.

An issue_comment event names the pull request only by number; when its labels name no
task, feedback-intake needs the head branch. This adapter makes that one request,
through the same :class:`~remedy.adapters.github.transport.Transport` as the
PullRequests adapter (retries, rate limits, and the circuit breaker shared per API URL),
and answers None for a 404.
"""

from __future__ import annotations

from typing import Any

from remedy.adapters.github.connection import TransportClient
from remedy.adapters.github.errors import GitHubUnavailable
from remedy.adapters.github.transport import NOT_FOUND
from remedy.domain.feedback import PullHead
from remedy.domain.identifiers import Repository, validate_pull_number


class PullHeadsClient(TransportClient):
    """:class:`remedy.handlers.feedback.targets.PullHeads` over PyGithub's requester."""

    def head_of(self, repository: str, number: int) -> PullHead | None:
        repo = Repository.parse(repository)
        validate_pull_number(number)
        answer = self._transport.call(
            "GET", f"/repos/{repo.full_name}/pulls/{number}", allow_404=True
        )
        if answer is NOT_FOUND:
            return None
        return _head(answer, what=f"{repo}#{number}")


def _head(answer: Any, *, what: str) -> PullHead:
    head = answer.get("head") if isinstance(answer, dict) else None
    if not isinstance(head, dict) or not isinstance(head.get("ref"), str):
        raise GitHubUnavailable(f"GitHub's answer for pull request {what} has no head ref")
    sha = head.get("sha")
    return PullHead(ref=head["ref"], sha=sha if isinstance(sha, str) else "")
