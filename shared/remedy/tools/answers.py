"""control-api's answers as the client returns them: :class:`typing.TypedDict` views of
the fields docs/control-api.md promises (control-api may add fields; they are kept)."""

from __future__ import annotations

from typing import Any, Literal, TypedDict


class CancellationCounts(TypedDict):
    requested: int
    acknowledged: int
    deleted: int
    forced: int
    gone: int


class TaskSummary(TypedDict):
    task_id: int
    repository: str
    stage: str | None
    epoch: int
    head: str | None
    cancellations: CancellationCounts
    cancellation_requested: bool
    last_change: str | None


class TaskPage(TypedDict):
    tasks: list[TaskSummary]
    next_cursor: str | None


class Cancellation(TypedDict):
    namespace: str
    name: str
    uid: str
    agent: str
    epoch: int
    for_head: str
    requested_at: str
    deadline: str
    status: Literal["requested", "acknowledged", "deleted", "forced", "gone"]
    outcome: str
    reason: str
    requested_by: str


class Step(TypedDict):
    step: str
    at: str
    outcome: str
    delivery: str


class Remediation(TypedDict):
    epoch: int
    head: str
    before: str
    delivery: str
    pushed_at: str
    steps: list[Step]


class HistoryEntry(TypedDict):
    at: str
    epoch: int
    delivery: str
    step: str
    outcome: str


class TaskDetail(TypedDict):
    """The task's remediation state (more fields than these), its stage and timeline."""

    task_id: int
    repository: str
    branch: str | None
    pr_number: int | None
    epoch: int
    cancellations: dict[str, Cancellation]
    history: list[HistoryEntry]
    resource_version: str
    stage: str | None
    timeline: list[Remediation]


class Cancellations(TypedDict):
    task_id: int
    epoch: int
    all_stopped: bool
    cancellations: list[Cancellation]


class Accepted(TypedDict):
    event_id: str
    type: str
    correlation_id: str
    epoch: int


class Acknowledged(TypedDict):
    coderun: str
    status: Literal["acknowledged", "already-acknowledged"]
    message: str
    cancellation: Cancellation
    agents_stopped: dict[str, Any] | None


WatchLine = dict[str, Any]
"""``{"type": "snapshot" | "changed", ...Cancellations}`` or ``{"type": "end", "reason"}``."""
