"""Agent runs (CodeRuns) and which of them a remediation must stop.

The original system selected runs by an ``agent-type`` label nothing ever set, and then
force-deleted every pending or running run of the task, Rex's own included. Here a run's
agent is read from ``spec.githubApp`` (or the ``github-app`` label) and the plan keeps,
with a reason, every run that must survive: the implementation agent's, another task's,
finished ones, and any run already working on the pushed head or a newer one.

The annotation contract with agents (documented in README "Cancellation"):

- agents SHOULD set ``remedy.dev/head-sha`` to the commit they work on when they start;
  without it remedy judges by creation time against the push.
- remedy writes ``remedy.dev/cancel-*`` to request a cancellation; the agent stops and
  acknowledges through control-api, which records ``remedy.dev/cancel-acknowledged-at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from remedy.domain.identifiers import LoginSet

PREFIX = "remedy.dev/"
HEAD_SHA = PREFIX + "head-sha"
CANCEL_REQUESTED_AT = PREFIX + "cancel-requested-at"
CANCEL_REASON = PREFIX + "cancel-reason"
CANCEL_REQUESTED_BY = PREFIX + "cancel-requested-by"
CANCEL_EPOCH = PREFIX + "cancel-epoch"
CANCEL_FOR_HEAD = PREFIX + "cancel-for-head"
CANCEL_DEADLINE = PREFIX + "cancel-deadline"
CANCEL_ACKNOWLEDGED_AT = PREFIX + "cancel-acknowledged-at"
SIMULATE_LABEL = PREFIX + "simulate"

TASK_LABEL = "task-id"
AGENT_LABEL = "github-app"

FINISHED_PHASES = frozenset(
    {"Succeeded", "Failed", "Completed", "Cancelled", "Canceled", "Error", "Stopped"}
)
NOT_STARTED_PHASES = frozenset({"", "Pending", "Queued"})


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class AgentRun:
    """What remedy reads from a CodeRun."""

    namespace: str
    name: str
    uid: str
    resource_version: str
    agent: str
    task_id: int | None
    phase: str
    created_at: datetime | None
    head_sha: str | None
    deleting: bool
    cancel_epoch: int | None
    acknowledged: bool
    cancel_reason: str = ""
    cancel_requested_by: str = ""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES

    @property
    def started(self) -> bool:
        return self.phase not in NOT_STARTED_PHASES

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> AgentRun:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels") or {}
        annotations = metadata.get("annotations") or {}
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        task = spec.get("taskId", labels.get(TASK_LABEL))
        return cls(
            namespace=str(metadata.get("namespace", "")),
            name=str(metadata.get("name", "")),
            uid=str(metadata.get("uid", "")),
            resource_version=str(metadata.get("resourceVersion", "")),
            agent=str(spec.get("githubApp") or labels.get(AGENT_LABEL) or ""),
            task_id=_int(task),
            phase=str(status.get("phase") or ""),
            created_at=parse_time(metadata.get("creationTimestamp")),
            head_sha=annotations.get(HEAD_SHA) or None,
            deleting=bool(metadata.get("deletionTimestamp")),
            cancel_epoch=_int(annotations.get(CANCEL_EPOCH)),
            acknowledged=bool(annotations.get(CANCEL_ACKNOWLEDGED_AT)),
            cancel_reason=str(annotations.get(CANCEL_REASON) or ""),
            cancel_requested_by=str(annotations.get(CANCEL_REQUESTED_BY) or ""),
        )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


class Action(StrEnum):
    DELETE = "delete"
    """Not started yet: delete at once."""
    REQUEST = "request"
    """Running: ask it to stop (two-phase cooperative cancellation)."""
    KEEP = "keep"


@dataclass(frozen=True)
class Obsolescence:
    """What makes work obsolete: the push of ``head_sha`` at ``pushed_at``."""

    task_id: int
    head_sha: str
    pushed_at: datetime
    newer_heads: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Planned:
    run: AgentRun
    action: Action
    reason: str


@dataclass(frozen=True)
class AgentPolicy:
    downstream: LoginSet
    implementation: LoginSet


def plan(runs: list[AgentRun], *, push: Obsolescence, policy: AgentPolicy) -> list[Planned]:
    return [_decide(run, push, policy) for run in runs]


def _decide(run: AgentRun, push: Obsolescence, policy: AgentPolicy) -> Planned:
    def keep(reason: str) -> Planned:
        return Planned(run, Action.KEEP, reason)

    if run.task_id != push.task_id:
        return keep(f"belongs to task {run.task_id}, not {push.task_id}")
    if run.agent in policy.implementation:
        return keep(f"{run.agent} is the implementation agent")
    if run.agent not in policy.downstream:
        return keep(f"agent {run.agent or '(unknown)'} is not a downstream agent")
    if run.finished:
        return keep(f"already finished ({run.phase})")
    if run.head_sha is not None:
        if run.head_sha == push.head_sha:
            return keep(f"already working on the pushed head {push.head_sha[:12]}")
        if run.head_sha in push.newer_heads:
            return keep(f"working on a newer head {run.head_sha[:12]}")
    elif run.created_at is not None and run.created_at >= push.pushed_at:
        return keep("started at or after the push (it records no head)")
    if not run.started or run.deleting:
        return Planned(run, Action.DELETE, f"obsolete and not started ({run.phase or 'no phase'})")
    return Planned(run, Action.REQUEST, f"obsolete and {run.phase}: asked to stop")
