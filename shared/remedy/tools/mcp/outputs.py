"""The MCP tools' structured output: control-api's answers as pydantic models.

Each model is a tool's ``outputSchema`` (what an agent runtime shows the model and
validates ``structuredContent`` against) and says, field by field, what the field
means. They mirror docs/control-api.md, like the client's TypedDicts in
:mod:`remedy.tools.answers`; these are pydantic models because the SDK derives the
schema from them, and pydantic cannot read the stdlib TypedDicts nested in those on
Python 3.11. Every model allows extra fields: control-api may add some, and the tools
pass its JSON on as it came, so an added field reaches the caller instead of failing
the call.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

CancellationStatus = Literal["requested", "acknowledged", "deleted", "forced", "gone"]
WatchEnd = Literal["all-stopped", "timeout", "no-state", "error"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Cancellation(_Open):
    """One review run remedy asked to stop."""

    namespace: str = Field(description="The CodeRun's namespace")
    name: str = Field(description="The CodeRun's name")
    uid: str = Field(description="The CodeRun's uid when it was asked")
    agent: str = Field(description="The agent's GitHub login, e.g. 5DLabs-Cleo")
    epoch: int = Field(description="The task's remediation epoch the cancellation belongs to")
    for_head: str = Field(description="The pushed head that made the work obsolete")
    requested_at: str = Field(description="When remedy asked (RFC 3339, UTC)")
    deadline: str = Field(description="When remedy stops waiting and deletes the run itself")
    status: CancellationStatus = Field(
        description="requested: asked, not stopped yet; acknowledged: the agent acknowledged, "
        "deletion pending; deleted: deleted before it started; forced: deleted after its "
        "deadline; gone: confirmed deleted"
    )
    outcome: str = Field("", description="What remedy did, for people")
    reason: str = Field("", description="Why it was asked for")
    requested_by: str = Field(
        "", description="Who asked: remedy/agent-cancel for a push, else the caller"
    )


class CancellationCounts(_Open):
    requested: int
    acknowledged: int
    deleted: int
    forced: int
    gone: int


class TaskSummary(_Open):
    task_id: int
    repository: str = Field(description="owner/name")
    stage: str | None = Field(description="The play workflow's stage; null without a workflow")
    epoch: int = Field(description="The task's current remediation epoch")
    head: str | None = Field(description="The head of the task's newest admitted push")
    cancellations: CancellationCounts = Field(
        description="The task's recorded cancellations (every epoch kept), by status"
    )
    cancellation_requested: bool = Field(
        description="Some cancellation of the current epoch is still requested (not stopped)"
    )
    last_change: str | None = Field(description="When the task's history last changed")


class TaskPage(_Open):
    """One page of tasks, in ascending task id."""

    tasks: list[TaskSummary]
    next_cursor: str | None = Field(
        description="Pass as `cursor` (with the same filters) for the next page; null on the last"
    )


class Step(_Open):
    step: str = Field(description="The function that wrote it, e.g. agent-cancel, workflow-resume")
    at: str
    outcome: str
    delivery: str


class Remediation(_Open):
    """One admitted push and what remedy did for it."""

    epoch: int
    head: str = Field(description="The pushed head")
    before: str = Field(description="The head it replaced")
    delivery: str = Field(description="The GitHub delivery it was admitted from")
    pushed_at: str
    steps: list[Step]


class HistoryEntry(_Open):
    at: str
    epoch: int
    delivery: str
    step: str
    outcome: str


class TaskDetail(_Open):
    """A task's remediation state, its play workflow's stage and its timeline."""

    task_id: int
    repository: str = Field(description="owner/name")
    branch: str | None = None
    pr_number: int | None = None
    epoch: int = Field(description="The task's current remediation epoch")
    stage: str | None = Field(description="The play workflow's stage; null without a workflow")
    cancellations: dict[str, Cancellation] = Field(
        description="Every recorded cancellation, by namespace/name"
    )
    timeline: list[Remediation] = Field(description="The task's remediations, newest first")
    history: list[HistoryEntry] = Field(description="The audit log, oldest first")
    resource_version: str


class Cancellations(_Open):
    """A task's cancellations and whether the current epoch's have all stopped."""

    task_id: int
    epoch: int = Field(description="The task's current remediation epoch")
    all_stopped: bool = Field(description="Every cancellation of the current epoch has stopped")
    cancellations: list[Cancellation]


class CancellationRequested(_Open):
    """control-api sent ``dev.remedy.cancellation.requested``; agent-cancel does the rest."""

    event_id: str = Field(description="The event's id (the same for a retry with the same key)")
    type: str = Field(description="dev.remedy.cancellation.requested")
    correlation_id: str
    epoch: int = Field(description="The task's epoch the request belongs to")


class Acknowledged(_Open):
    coderun: str = Field(description="namespace/name")
    status: Literal["acknowledged", "already-acknowledged"]
    message: str
    cancellation: Cancellation
    agents_stopped: dict[str, Any] | None = Field(
        None, description="Set when this stopped the epoch's last cancelled run"
    )


class WaitResult(_Open):
    """How a wait for a task's cancellations ended, with the last thing it saw."""

    task_id: int
    ended: WatchEnd = Field(
        description="all-stopped: every cancellation of the current epoch stopped; timeout: "
        "the timeout passed first; no-state: the task's state went away; error: control-api's "
        "watch failed"
    )
    timeout_seconds: float
    changes: int = Field(description="How many changes were seen after the first snapshot")
    last: Cancellations | None = Field(
        description="The last snapshot of the cancellations (null if none arrived)"
    )
