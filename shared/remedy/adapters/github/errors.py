"""What the GitHub adapter raises, sorted by what the event's delivery should do next.

The HTTP edge maps :class:`~remedy.ports.RetryLater` to 503 (Knative redelivers with
backoff) and :class:`~remedy.ports.Rejected` to its ``status`` (not retried, dead-
lettered). Every transient error here carries ``retry_after_s`` when GitHub (or the
breaker) said how long to wait, so the edge can answer ``Retry-After`` and nothing
sleeps for long inside a request handler.

Bad credentials are *transient* on purpose: a revoked or mistyped ``GITHUB_TOKEN`` is
a misconfiguration an operator fixes, after which the redelivered work must still
happen; dead-lettering it would quietly drop label updates until someone replays
the dead letters. The message names the variable to fix.
"""

from __future__ import annotations

from remedy.ports import Rejected, RetryLater


class GitHubRetryLater(RetryLater):
    """GitHub could not do it now; the same request later can succeed."""

    status = 503

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class GitHubUnavailable(GitHubRetryLater):
    """5xx answers, timeouts or connection errors outlasted the retries."""


class RateLimited(GitHubRetryLater):
    """A primary or secondary rate limit: wait ``retry_after_s`` before the next call."""


class CircuitOpen(GitHubRetryLater):
    """Recent calls kept failing; calls fail fast without a request until the cooldown ends."""


class GitHubUnauthorized(GitHubRetryLater):
    """401/403: the token is wrong, revoked or lacks a permission (fix GITHUB_TOKEN)."""


class GitHubRejected(Rejected):
    """GitHub refused the request as sent (4xx); sending it again cannot help."""

    status = 422


class GitHubNotFound(GitHubRejected):
    """The repository or pull request does not exist, or the token cannot see it."""
