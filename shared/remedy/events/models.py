"""Data models of remedy's own events (pydantic), one per catalogued type.

Every internal event carries the same task envelope — task id, repository, PR number
where known, head SHA, the originating GitHub delivery id as correlation id, and the
per-task epoch — so any step can be fenced, deduplicated and traced on its own. The
JSON Schemas in ``schemas/`` are generated from these classes (see ``schemas.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from remedy.domain.identifiers import MAX_TASK_ID
from remedy.events import catalogue

Sha = Annotated[str, Field(pattern=r"^[0-9a-f]{40}$", description="A full commit SHA.")]
Login = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}(\[[bB][oO][tT]\])?$")]
ResourceName = Annotated[
    str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$", max_length=253)
]


class TaskEvent(BaseModel):
    """The envelope every internal event carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    event_type: ClassVar[str]

    task_id: int = Field(ge=1, le=MAX_TASK_ID)
    repository: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$",
        description="owner/name of the GitHub repository.",
    )
    pr_number: int | None = Field(default=None, ge=1, description="The task's PR, when known.")
    head_sha: Sha = Field(description="The task branch head this event is about.")
    correlation_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="The GitHub delivery id (X-GitHub-Delivery) that started the work.",
    )
    epoch: int = Field(
        ge=1,
        description="Per-task epoch in push order (remedy.domain.push_order): a newer epoch "
        "supersedes older work.",
    )


class RemediationRequested(TaskEvent):
    event_type: ClassVar[str] = catalogue.REMEDIATION_REQUESTED

    branch: str = Field(min_length=1, max_length=255)
    before_sha: Sha
    after_sha: Sha
    pusher: Login
    delivery_id: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
        description="The push's first delivery: every other delivery of the same push (repository, "
        "ref, before, after) gets this same event.",
    )
    forced: bool = False
    pushed_at: datetime = Field(
        description="When the push happened (GitHub's repository.pushed_at, else when remedy "
        "took it in); runs created at or after it are presumed to work on the new head."
    )


class CancellationRequested(TaskEvent):
    event_type: ClassVar[str] = catalogue.CANCELLATION_REQUESTED

    reason: str = Field(min_length=1, max_length=500)
    requested_by: str = Field(min_length=1, max_length=100)
    origin: Literal["api", "feedback", "push"]


class CancellationOutcome(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    namespace: ResourceName
    coderun: ResourceName
    agent: str
    action: Literal["deleted", "cancel-requested", "already-stopped", "kept"]
    reason: str


class AgentsCancelled(TaskEvent):
    event_type: ClassVar[str] = catalogue.AGENTS_CANCELLED

    outcomes: tuple[CancellationOutcome, ...] = ()
    all_stopped: bool = Field(description="True when nothing is left waiting for an ack.")


class LabelsUpdated(TaskEvent):
    event_type: ClassVar[str] = catalogue.LABELS_UPDATED

    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    github_requests: int = Field(ge=0)


class AgentsStopped(TaskEvent):
    event_type: ClassVar[str] = catalogue.AGENTS_STOPPED

    coderuns: tuple[ResourceName, ...] = ()
    forced: bool = False


class WorkflowResumed(TaskEvent):
    event_type: ClassVar[str] = catalogue.WORKFLOW_RESUMED

    workflow: ResourceName
    namespace: ResourceName
    from_stage: str
    to_stage: str
    deferred: bool = Field(description="True when the resume was kept for a later suspend point.")


class RemediationStarted(TaskEvent):
    event_type: ClassVar[str] = catalogue.REMEDIATION_STARTED

    iteration: int = Field(ge=1)
    coderun: ResourceName
    feedback_id: int = Field(ge=1)
    feedback_type: Literal["comment", "review"]


class RemediationExhausted(TaskEvent):
    event_type: ClassVar[str] = catalogue.REMEDIATION_EXHAUSTED

    iteration: int = Field(ge=1)
    max_iterations: int = Field(ge=1)
    feedback_id: int = Field(ge=1)


MODELS: tuple[type[TaskEvent], ...] = (
    RemediationRequested,
    CancellationRequested,
    AgentsCancelled,
    LabelsUpdated,
    AgentsStopped,
    WorkflowResumed,
    RemediationStarted,
    RemediationExhausted,
)
BY_TYPE: dict[str, type[TaskEvent]] = {model.event_type: model for model in MODELS}
