"""One GitHub REST call, made safe to repeat: retries, rate limits, breaker, counting.

Requests go through PyGithub's ``Requester`` (``Github.requester``, public API "to
make requests to API endpoints not yet supported by PyGithub"): it brings the token
handling, connection pool and error types, while remedy keeps exact control of each
URL and of how many requests a call makes.

Policy, and why:

- 5xx, timeouts and connection errors are retried ``attempts`` times with capped
  exponential backoff and jitter. Every call remedy makes is idempotent in effect
  (adding a present label or removing an absent one changes nothing), so a write
  whose answer was lost can be sent again.
- A secondary rate limit whose ``Retry-After`` fits ``secondary_wait_budget_s`` is
  waited out once in-process; a longer one, and any primary-limit refusal, raises
  :class:`RateLimited` at once: a function handler must not sleep for minutes when
  Knative will redeliver the event later anyway. Until that wait is over, calls raise
  :class:`RateLimited` again without a request, because GitHub may ban an
  integration that keeps calling while limited.
- No client-side pacing. GitHub advises ≥ 1 s between writes and PyGithub by default
  sleeps 0.25 s before each request and 1 s between writes; remedy makes at most
  three requests per remediation (one or two reads, two writes) and none for a
  duplicate, far below any limit, and is judged on latency. Secondary limits it might
  still hit are honoured as above.

Each attempt is counted in the metrics by method, endpoint template and status, with
the rate limit GitHub says is left (:mod:`remedy.metrics`).
"""

from __future__ import annotations

import json
import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

import requests
from github import GithubException
from github.Requester import Requester

from remedy import metrics
from remedy.adapters.github.answers import Failed, Limited, Problem, Refused, classify
from remedy.adapters.github.breaker import CircuitBreaker, Clock
from remedy.adapters.github.errors import (
    GitHubNotFound,
    GitHubRejected,
    GitHubUnauthorized,
    GitHubUnavailable,
    RateLimited,
)

log = logging.getLogger(__name__)


class _NotFound:
    def __repr__(self) -> str:
        return "NOT_FOUND"


NOT_FOUND: Final = _NotFound()
"""What :meth:`Transport.call` returns for a 404 when the caller allowed it."""


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    """Requests per call at most, when 5xx/timeouts/connection errors repeat."""
    base_delay_s: float = 0.05
    max_delay_s: float = 1.0
    secondary_wait_budget_s: float = 2.0
    """The longest secondary-limit ``Retry-After`` waited out in-process (once per call)."""

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be >= 1")
        if not 0 <= self.base_delay_s <= self.max_delay_s:
            raise ValueError("delays must satisfy 0 <= base_delay_s <= max_delay_s")
        if self.secondary_wait_budget_s < 0:
            raise ValueError("secondary_wait_budget_s must be >= 0")

    def backoff(self, retry: int, draw: Callable[[], float]) -> float:
        """Delay before retry number ``retry`` (0-based): half fixed, half random."""
        ceiling = min(self.max_delay_s, self.base_delay_s * 2.0**retry)
        return ceiling / 2 + draw() * ceiling / 2


class Transport:
    def __init__(
        self,
        *,
        requester: Requester,
        breaker: CircuitBreaker,
        clock: Clock,
        policy: RetryPolicy | None = None,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self._requester = requester
        self._breaker = breaker
        self._clock = clock
        self._policy = policy or RetryPolicy()
        self._draw = draw
        self._lock = threading.Lock()
        self._requests = 0
        self._limited_until = 0.0  # monotonic

    @property
    def requests_made(self) -> int:
        with self._lock:
            return self._requests

    def call(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        allow_404: bool = False,
    ) -> Any:
        """The decoded JSON answer of ``verb path``, or :data:`NOT_FOUND` if allowed."""
        self._check_limited()
        failures = 0
        waited = False
        while True:
            self._breaker.admit()
            problem, data = self._attempt(verb, path, params, body)
            if problem is None:
                return data
            if isinstance(problem, Refused):
                if problem.status == 404 and allow_404:
                    return NOT_FOUND
                raise _refusal(problem, verb=verb, path=path)
            if isinstance(problem, Limited):
                if waited or not self._may_wait(problem):
                    self._limit(problem.retry_after_s)
                    raise RateLimited(
                        f"{verb} {path}: {problem.reason}", retry_after_s=problem.retry_after_s
                    )
                waited = True
                log.info("%s %s: %s; waiting it out", verb, path, problem.reason)
                self._clock.sleep(problem.retry_after_s)
                continue
            failures += 1
            if failures >= self._policy.attempts or (
                problem.retry_after_s is not None
                and problem.retry_after_s > self._policy.secondary_wait_budget_s
            ):
                raise GitHubUnavailable(
                    f"{verb} {path} failed {failures} time(s), last: {problem.reason}",
                    retry_after_s=problem.retry_after_s,
                )
            delay = max(
                self._policy.backoff(failures - 1, self._draw), problem.retry_after_s or 0.0
            )
            log.info("%s %s: %s; retry %d in %.3f s", verb, path, problem.reason, failures, delay)
            self._clock.sleep(delay)

    def _attempt(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: Any
    ) -> tuple[Problem | None, Any]:
        """One request; the breaker hears about it whatever happens."""
        with self._lock:
            self._requests += 1
        problem: Problem | None = Failed("the request did not complete")
        status: int | None = 0
        try:
            headers, data = self._requester.requestJsonAndCheck(
                verb, path, parameters=dict(params) if params else None, input=body
            )
            problem, status = None, None
            metrics.github_rate_limit(headers)
            return None, data
        except GithubException as exc:
            problem = classify(exc.status, exc.headers or {}, exc.data, now=self._clock.time())
            status = exc.status
            metrics.github_rate_limit(exc.headers)
            return problem, None
        except requests.Timeout as exc:
            problem = Failed(f"timed out ({type(exc).__name__})")
            return problem, None
        except (requests.RequestException, json.JSONDecodeError) as exc:
            problem = Failed(f"{type(exc).__name__}: {str(exc)[:200]}")
            return problem, None
        finally:
            metrics.github_request(verb, path, status)
            if isinstance(problem, Failed):
                self._breaker.failed()
            else:
                self._breaker.succeeded()

    def _may_wait(self, problem: Limited) -> bool:
        """Only a short secondary-limit wait is spent in-process, once per call."""
        return problem.secondary and problem.retry_after_s <= self._policy.secondary_wait_budget_s

    def _check_limited(self) -> None:
        with self._lock:
            left = self._limited_until - self._clock.monotonic()
        if left > 0:
            raise RateLimited(
                f"GitHub rate-limited this token; not calling it for another {left:.1f} s",
                retry_after_s=left,
            )

    def _limit(self, seconds: float) -> None:
        until = self._clock.monotonic() + seconds
        with self._lock:
            self._limited_until = max(self._limited_until, until)


def _refusal(problem: Refused, *, verb: str, path: str) -> Exception:
    what = f"{verb} {path}: GitHub answered {problem.status} ({problem.message})"
    if problem.status in (401, 403):
        return GitHubUnauthorized(
            f"{what}; check that GITHUB_TOKEN is valid and may write issues and pull requests"
        )
    if problem.status == 404:
        return GitHubNotFound(f"{what}; it does not exist or GITHUB_TOKEN cannot see it")
    return GitHubRejected(what)
