"""Narrow ports the handlers depend on.

Handlers take these Protocols, never a client library: the Redis adapters, the HTTP
broker client and the in-memory versions used in unit tests all fit without
inheriting from anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from cloudevents.http import CloudEvent

if TYPE_CHECKING:
    # Named in signatures only: importing them here would load pydantic (the state
    # model) into webhook-gateway, which depends on this module for EventSink alone.
    from remedy.domain.agents import AgentRun
    from remedy.domain.audit import EventType, ObjectRef
    from remedy.domain.outcomes import CancellationOutcome, FeedbackOutcome, RemediationOutcome
    from remedy.domain.push_order import PushLog
    from remedy.domain.remediation import RemediationState


class EventSink(Protocol):
    """Where events go next: the broker ingress (K_SINK) on Knative and locally."""

    def send(self, event: CloudEvent) -> None:
        """Deliver ``event``; raise :class:`SinkError` unless the sink accepted it."""


class SinkError(RuntimeError):
    """The sink did not accept an event (non-2xx, timeout, connection error)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


JSON = Mapping[str, Any]
T = TypeVar("T")
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class RetryLater(RuntimeError):
    """Transient: the same event delivered again later can succeed (HTTP 409/503)."""

    status = 503


class Rejected(ValueError):
    """Permanent: the event can never succeed as sent (HTTP 4xx, dead-lettered)."""

    status = 400


class Steps(Protocol):
    """Recovery points of one piece of multi-step work, as recorded in the ledger."""

    def get(self, step: str) -> Mapping[str, Any] | None:
        """The recorded output of ``step``, or None when it has not completed."""

    def record(self, step: str, output: Mapping[str, Any]) -> None:
        """Record ``step`` as completed with ``output`` (the new recovery point)."""


class Idempotency(Protocol):
    """Exactly-once in effect: run work to completion once per key, replay it after."""

    def once(
        self,
        *,
        source: str,
        event_id: str,
        fingerprint: str,
        work: Callable[[Steps], dict[str, Any]],
    ) -> dict[str, Any]:
        """Run ``work`` for (source, id) unless it completed before; return its result.

        A retry after a crash resumes with the recorded steps. Raises :class:`RetryLater`
        while another holder works on the same key, and :class:`Rejected` when the key
        was seen with a different payload fingerprint.
        """


@dataclass(frozen=True)
class LedgerRecord:
    """What the idempotency ledger holds for one (source, id): how far its step got."""

    status: Literal["in_progress", "failed", "done"]
    result: Mapping[str, Any] | None = None
    """The recorded result (``{"event": ...}`` or ``{"ack": ...}``) once done."""
    last_error: str | None = None
    recovery_point: str | None = None
    lease_remaining_s: float | None = None
    """While in progress: how long its holder's claim still runs (0: the holder vanished)."""


class LedgerRecords(Protocol):
    """Reading the idempotency ledger, for the reconciler's walk along a saga."""

    def record(self, *, source: str, event_id: str) -> LedgerRecord | None:
        """The record of ``source``'s event ``event_id`` (as :meth:`Idempotency.once`
        keys it), or None when there is none."""


class PushLogs(Protocol):
    """Each task's push log (:mod:`remedy.domain.push_order`), changed one caller at a time."""

    def update(self, name: str, change: Callable[[PushLog], tuple[T, PushLog | None]]) -> T:
        """Read ``name``'s log, apply ``change``, store the log it returns (None: keep).

        Raises :class:`RetryLater` when the log is busy or unreachable; nothing
        ``change`` decided has then taken effect.
        """


class Conflict(RetryLater):
    """A write lost a compare-and-swap (stale resourceVersion): re-read and retry."""

    status = 409


class PullRequests(Protocol):
    """The task's pull request on GitHub: found once, then only single-label writes.

    GitHub takes no ``If-Match`` on writes, so labels are never PUT as a set computed
    from a stale read: one label is added or removed at a time.
    """

    def find_open(self, repository: str, *, branch: str, task_id: int) -> int | None:
        """The open PR whose head is ``branch`` (one read), else one labelled ``task-<id>``."""

    def remove_label(self, repository: str, number: int, label: str) -> bool:
        """Remove ``label``; False when it was not on the PR (GitHub's 404)."""

    def add_labels(self, repository: str, number: int, labels: Sequence[str]) -> None:
        """Add ``labels`` in one request (missing repository labels are created)."""


class NotFound(LookupError):
    """The object is gone (Kubernetes 404)."""


class AgentRuns(Protocol):
    """CodeRuns across the namespaces remedy watches (REMEDY_CODERUN_NAMESPACES)."""

    def list_for_task(self, task_id: int) -> list[AgentRun]:
        """Every CodeRun labelled ``task-id=<task_id>``, whatever its agent or phase."""

    def get(self, namespace: str, name: str) -> AgentRun:
        """The run, or :class:`NotFound`."""

    def annotate(self, run: AgentRun, annotations: Mapping[str, str]) -> AgentRun:
        """Merge ``annotations`` into the run, guarded by its resourceVersion.

        Raises :class:`Conflict` when the run changed since it was read and
        :class:`NotFound` when it is gone.
        """

    def delete(self, run: AgentRun, *, grace_period_s: int | None) -> None:
        """Delete this very run (uid precondition); a run already gone is not an error."""

    def gone(self, run: AgentRun) -> bool:
        """Whether the run no longer exists (404, or its name now holds another uid)."""


class RemediationStates(Protocol):
    """One ``task-<id>-remediation-state`` ConfigMap per task, written with CAS."""

    def load(self, task_id: int) -> tuple[RemediationState | None, str | None]:
        """The state and its resourceVersion, or (None, None) when there is none yet."""

    def save(self, state: RemediationState, *, resource_version: str | None) -> str:
        """Create (``resource_version`` None) or replace it; :class:`Conflict` if stale."""

    def task_ids(self) -> list[int]:
        """Every task that has a remediation state (for the reconciler)."""

    def load_all(self) -> list[RemediationState]:
        """Every task's state, from one list request (for control-api's task list)."""

    def ref(self, task_id: int) -> ObjectRef:
        """The object holding ``task_id``'s state, for Events about the task (its uid as
        last loaded or saved here; empty when neither happened)."""


class AuditTrail(Protocol):
    """Kubernetes Events on the objects remedy acted on (:mod:`remedy.domain.audit`)."""

    def record(
        self,
        regarding: ObjectRef,
        *,
        reason: str,
        action: str,
        note: str,
        type: EventType = "Normal",
    ) -> None:
        """Record one Event about ``regarding``; best-effort: never raises, never waits
        long — failing to write an Event never fails a step."""


class Workflows(Protocol):
    """Play workflows (argoproj.io/v1alpha1) in REMEDY_WORKFLOW_NAMESPACE."""

    def find(self, task_id: int) -> dict[str, Any] | None:
        """The task's play workflow (labels workflow-type=play-orchestration, task-id=T).

        When several match, the newest unfinished one.
        """

    def by_task(self) -> dict[int, dict[str, Any]]:
        """Every task's play workflow, chosen as :meth:`find` chooses, from one list
        request (label workflow-type=play-orchestration) whatever the number of tasks."""

    def replace(self, workflow: dict[str, Any]) -> dict[str, Any]:
        """Update the whole object with its resourceVersion; :class:`Conflict` if stale."""


class Tally(Protocol):
    """What the steps decided that only the handlers know, counted for the metrics.

    The handlers count through this port (at the edge it is :mod:`remedy.metrics`),
    never a metrics library: the outcomes are the Literals of
    :mod:`remedy.domain.outcomes`, so bounded. A step counts as it audits
    (:class:`~remedy.handlers.common.tasks.TaskStep`): once it lets go of the task.
    Implementations never raise and never wait.
    """

    def remediation_requested(self) -> None:
        """A push was admitted with a new epoch: a remediation starts."""

    def remediation(
        self, outcome: RemediationOutcome, *, pushed_at: datetime | None = None
    ) -> None:
        """A remediation's outcome; ``pushed_at`` (the push's time) with ``resumed``."""

    def cancellation_requested(self) -> None:
        """A running run was asked to stop (it stops acknowledged, forced or gone)."""

    def cancellation(self, outcome: CancellationOutcome) -> None:
        """A cancelled run stopped."""

    def feedback(self, outcome: FeedbackOutcome) -> None:
        """QA feedback was counted."""


class Lease(Protocol):
    """A held per-task lock: its fencing token and how long it is still valid."""

    @property
    def fence(self) -> int: ...

    def remaining_s(self) -> float: ...


class Locks(Protocol):
    def hold(self, resource: str) -> AbstractContextManager[Lease]:
        """Hold ``resource`` for the block; raises :class:`RetryLater` when it is busy."""
