"""Every Prometheus metric remedy exposes, named here, and the one way each is recorded.

Each function serves its own process's metrics at ``GET /metrics`` (Prometheus text
format, :mod:`remedy.handlers.common.scrape`). functions-framework runs one gunicorn
worker per pod (``WORKERS`` is 1, its default; knative/ pins it), so the process's
default registry is the pod's: prometheus_client's multiprocess mode is not needed.
Its own process and Python collectors (``process_*``, ``python_*``) come along;
``process_start_time_seconds`` tells a restart, and a scale-to-zero, from a quiet spell.

Where each is recorded — at the edges, never in the domain:

- the HTTP edges (:mod:`remedy.entrypoints`, control-api's and the reconciler's): each
  step's duration and outcome (:func:`timed`), acknowledgements by status, dead letters;
- the adapters: GitHub requests, its rate limit and circuit breaker, Redlock
  acquisitions and waits, the idempotency ledger's duplicates;
- what only the handlers know (a remediation's or a cancellation's outcome, feedback)
  reaches :class:`Tally` through the :class:`remedy.ports.Tally` port.

Every label value comes from a closed set (a Literal, the event catalogue, a route or
endpoint template, a status code), never a task id, a SHA or a delivery id. Recording
never fails a step: a recorder that raises logs it (once at WARNING) and carries on.
Importing prometheus_client costs every function about 8 ms at start, once; recording
is a dictionary look-up and an addition under a lock.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Literal, ParamSpec, Protocol, get_args

import prometheus_client
from prometheus_client import Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import REGISTRY

from remedy.domain.outcomes import CancellationOutcome, FeedbackOutcome, RemediationOutcome
from remedy.events import catalogue

log = logging.getLogger("remedy.metrics")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
"""What :func:`exposition` writes (the classic text format every Prometheus reads)."""
STARTED = time.time()
"""When this process started (imported remedy): a push older than this met it cold."""
OTHER = "other"

# ``_created`` series double the output and say nothing process_start_time_seconds does not
prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_PUSH_SECONDS = (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
_WAIT_SECONDS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)

STEPS = Counter(
    "remedy_steps_total",
    "Steps served (requests), by function, step and outcome.",
    ["function", "step", "outcome"],
)
STEP_DURATION = Histogram(
    "remedy_step_duration_seconds",
    "How long a step took, by function and step.",
    ["function", "step"],
    buckets=_SECONDS,
)
REMEDIATIONS_REQUESTED = Counter(
    "remedy_remediations_requested_total",
    "Rex pushes admitted with a new epoch: remediations started (push-intake).",
)
REMEDIATIONS = Counter(
    "remedy_remediations_total",
    "Remediation decisions, by outcome.",
    ["outcome"],
)
PUSH_TO_RESUME = Histogram(
    "remedy_push_to_resume_seconds",
    "From the push (GitHub's pushed_at, whole seconds) to the workflow's resume; start=cold "
    "when the resuming process started after the push.",
    ["start"],
    buckets=_PUSH_SECONDS,
)
CANCELLATION_REQUESTS = Counter(
    "remedy_cancellation_requests_total",
    "Running Cleo/Tess runs asked to stop (they end acknowledged, forced or already gone).",
)
CANCELLATIONS = Counter(
    "remedy_cancellations_total",
    "Cancelled Cleo/Tess runs that stopped, by outcome.",
    ["outcome"],
)
ACKNOWLEDGEMENTS = Counter(
    "remedy_acknowledgements_total",
    "Cancellation acknowledgements at control-api, by the HTTP status answered.",
    ["result"],
)
GITHUB_REQUESTS = Counter(
    "remedy_github_requests_total",
    "GitHub API requests (each attempt), by method, endpoint template and status.",
    ["method", "endpoint", "status"],
)
GITHUB_RATE_LIMIT = Gauge(
    "remedy_github_ratelimit_remaining",
    "GitHub's x-ratelimit-remaining in its last answer, by x-ratelimit-resource.",
    ["resource"],
)
GITHUB_BREAKER = Gauge(
    "remedy_github_circuit_breaker_state",
    "The GitHub circuit breaker: 1 for its current state, 0 for the others.",
    ["state"],
)
LOCK_ACQUISITIONS = Counter(
    "remedy_lock_acquisitions_total",
    "Redlock acquisitions, by lock and result.",
    ["lock", "result"],
)
LOCK_WAIT = Histogram(
    "remedy_lock_wait_seconds",
    "How long taking a Redlock took (or was tried before giving up), by lock.",
    ["lock"],
    buckets=_WAIT_SECONDS,
)
LEDGER_DUPLICATES = Counter(
    "remedy_ledger_duplicates_total",
    "Deliveries the idempotency ledger had seen: replayed, or in progress elsewhere (409).",
    ["outcome"],
)
DEAD_LETTERS = Counter(
    "remedy_dead_letters_total",
    "Events the Broker dead-lettered, by reason and event type.",
    ["reason", "type"],
)
FEEDBACK_ITERATIONS = Counter(
    "remedy_feedback_iterations_total",
    "QA feedback that started a counted Rex remediation run.",
)
FEEDBACK_EXHAUSTIONS = Counter(
    "remedy_feedback_exhaustions_total",
    "QA feedback past REMEDY_MAX_ITERATIONS: no run, the PR marked failed-remediation.",
)  # fmt: skip

METRICS: tuple[Counter | Gauge | Histogram, ...] = (
    STEPS, STEP_DURATION, REMEDIATIONS_REQUESTED, REMEDIATIONS, PUSH_TO_RESUME,
    CANCELLATION_REQUESTS, CANCELLATIONS, ACKNOWLEDGEMENTS, GITHUB_REQUESTS, GITHUB_RATE_LIMIT,
    GITHUB_BREAKER, LOCK_ACQUISITIONS, LOCK_WAIT, LEDGER_DUPLICATES, DEAD_LETTERS,
    FEEDBACK_ITERATIONS, FEEDBACK_EXHAUSTIONS,
)  # fmt: skip
"""All of remedy's own metrics (the README's table is checked against this)."""

# Every outcome series exists from the start, at 0: a counter that first appears at 1
# (a pod started for the request that counted it) would be lost to increase() and rate()
for _outcome in get_args(RemediationOutcome):
    REMEDIATIONS.labels(_outcome)
for _outcome in get_args(CancellationOutcome):
    CANCELLATIONS.labels(_outcome)

# -- never failing a step ---------------------------------------------------------------

P = ParamSpec("P")
_warned = threading.Event()


def _guarded(record: Callable[P, None]) -> Callable[P, None]:
    """``record``, except that it never raises: a failure is logged (WARNING once)."""

    @functools.wraps(record)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            record(*args, **kwargs)
        except Exception:
            level = logging.DEBUG if _warned.is_set() else logging.WARNING
            _warned.set()
            log.log(level, "recording a metric (%s) failed", record.__name__, exc_info=True)

    return guarded


# -- steps ------------------------------------------------------------------------------


class Finished(Protocol):
    """A step that says how it ended (:class:`remedy.traces.Step`)."""

    @property
    def outcome(self) -> str | None: ...


@_guarded
def step_done(function: str, step: str, outcome: str, seconds: float) -> None:
    STEPS.labels(function, step, outcome).inc()
    STEP_DURATION.labels(function, step).observe(seconds)


@contextmanager
def timed(function: str, step: str, finished: Finished) -> Iterator[None]:
    """Time the block as ``function``'s ``step``; its outcome is ``finished``'s once the
    block is over (``failed`` if it never said)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        step_done(function, step, finished.outcome or "failed", time.perf_counter() - start)


def event_step(event_type: str) -> str:
    """The step label of a CloudEvent: its type when catalogued, else ``other``."""
    return event_type if event_type in catalogue.BY_TYPE else OTHER


# -- what the handlers decided (the Tally port) -----------------------------------------


class Tally:
    """The :class:`remedy.ports.Tally` the functions' handlers count into."""

    @_guarded
    def remediation_requested(self) -> None:
        REMEDIATIONS_REQUESTED.inc()

    @_guarded
    def remediation(
        self, outcome: RemediationOutcome, *, pushed_at: datetime | None = None
    ) -> None:
        REMEDIATIONS.labels(outcome).inc()
        if outcome == "resumed" and pushed_at is not None:
            pushed = pushed_at.timestamp()
            start = "cold" if pushed < STARTED else "warm"
            PUSH_TO_RESUME.labels(start).observe(max(0.0, time.time() - pushed))

    @_guarded
    def cancellation_requested(self) -> None:
        CANCELLATION_REQUESTS.inc()

    @_guarded
    def cancellation(self, outcome: CancellationOutcome) -> None:
        CANCELLATIONS.labels(outcome).inc()

    @_guarded
    def feedback(self, outcome: FeedbackOutcome) -> None:
        (FEEDBACK_ITERATIONS if outcome == "iteration" else FEEDBACK_EXHAUSTIONS).inc()


TALLY = Tally()

# -- control-api and the reconciler -----------------------------------------------------

_ACK_RESULTS = frozenset({200, 400, 401, 403, 404, 405, 409, 413, 500, 503})
_RETRIED = frozenset({404, 408, 409, 429})
"""4xx a Broker retries (Knative's delivery spec): a dead letter with one ran out of retries."""


@_guarded
def acknowledgement(status: int) -> None:
    ACKNOWLEDGEMENTS.labels(str(status) if status in _ACK_RESULTS else OTHER).inc()


def dead_letter_reason(code: object) -> str:
    """Why the Broker gave an event up, from its ``knativeerrorcode``."""
    try:
        status = int(str(code))
    except ValueError:
        return "no_answer"  # a timeout or a connection error: no status at all
    if 400 <= status < 500 and status not in _RETRIED:
        return "rejected"
    return "retries_exhausted"


@_guarded
def dead_letter(code: object, event_type: str) -> None:
    DEAD_LETTERS.labels(dead_letter_reason(code), event_step(event_type)).inc()


# -- the adapters ---------------------------------------------------------------------

_REPO = r"^/repos/[^/]+/[^/]+"
_ENDPOINTS = tuple(
    (re.compile(_REPO + pattern + "/?$"), "/repos/{owner}/{repo}" + template)
    for pattern, template in (
        ("/pulls", "/pulls"),
        (r"/pulls/\d+", "/pulls/{number}"),
        ("/issues", "/issues"),
        (r"/issues/\d+/labels", "/issues/{number}/labels"),
        (r"/issues/\d+/labels/[^/]+", "/issues/{number}/labels/{name}"),
    )
)
_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
_RESOURCES = frozenset({"core", "search", "code_search", "graphql", "integration_manifest",
                        "source_import", "code_scanning_upload", "actions_runner_registration",
                        "scim", "dependency_snapshots", "audit_log"})  # fmt: skip
BreakerState = Literal["closed", "open", "half-open"]
_BREAKER_STATES: tuple[BreakerState, ...] = ("closed", "open", "half-open")


def github_endpoint(path: str) -> str:
    """``path`` as a template (``/repos/{owner}/{repo}/pulls/{number}``), else ``other``."""
    path = path.split("?", 1)[0]
    return next((template for pattern, template in _ENDPOINTS if pattern.match(path)), OTHER)


@_guarded
def github_request(method: str, path: str, status: int | None) -> None:
    """One attempt: ``status`` None for a success (PyGithub does not hand it back: every
    endpoint remedy calls answers 200), 0 when no answer came (timeout, connection)."""
    if status is None:
        label = "2xx"
    elif 100 <= status <= 599:
        label = str(status)
    else:
        label = "error"
    verb = method.upper() if method.upper() in _METHODS else OTHER
    GITHUB_REQUESTS.labels(verb, github_endpoint(path), label).inc()


@_guarded
def github_rate_limit(headers: Mapping[str, str] | None) -> None:
    """GitHub's remaining requests, from an answer's (lower-cased) headers."""
    if not headers or "x-ratelimit-remaining" not in headers:
        return
    resource = str(headers.get("x-ratelimit-resource") or "core")
    label = resource if resource in _RESOURCES else OTHER
    GITHUB_RATE_LIMIT.labels(label).set(float(headers["x-ratelimit-remaining"]))


@_guarded
def github_breaker(state: BreakerState) -> None:
    for each in _BREAKER_STATES:
        GITHUB_BREAKER.labels(each).set(1.0 if each == state else 0.0)


def lock_kind(resource: str) -> str:
    if resource.startswith("remedy:lock:task:"):
        return "task"
    if resource.startswith("remedy:pushes:lock:"):
        return "push-log"
    return OTHER


@_guarded
def lock_acquisition(resource: str, *, acquired: bool, waited_s: float) -> None:
    kind = lock_kind(resource)
    LOCK_ACQUISITIONS.labels(kind, "acquired" if acquired else "busy").inc()
    LOCK_WAIT.labels(kind).observe(waited_s)


@_guarded
def ledger_duplicate(outcome: Literal["replayed", "in_progress"]) -> None:
    LEDGER_DUPLICATES.labels(outcome).inc()


# -- exposition -----------------------------------------------------------------------


def exposition() -> bytes:
    """Everything in the process's registry, in the Prometheus text format."""
    return generate_latest(REGISTRY)
