"""Every CloudEvent type remedy consumes and emits, and who produces and consumes it.

This table is the single source the README's catalogue, the knative/ Trigger tests and
the schema files are checked against: a type a function emits either has a consumer
(a Trigger) or is marked terminal, i.e. an observable outcome nobody needs to act on.
"""

from __future__ import annotations

from dataclasses import dataclass

GITHUB_PREFIX = "dev.knative.source.github."
"""GitHubSource's type prefix; webhook-gateway emits the same types."""

PUSH = GITHUB_PREFIX + "push"
PULL_REQUEST = GITHUB_PREFIX + "pull_request"
PULL_REQUEST_REVIEW = GITHUB_PREFIX + "pull_request_review"
ISSUE_COMMENT = GITHUB_PREFIX + "issue_comment"

REMEDIATION_REQUESTED = "dev.remedy.remediation.requested"
CANCELLATION_REQUESTED = "dev.remedy.cancellation.requested"
AGENTS_CANCELLED = "dev.remedy.agents.cancelled"
LABELS_UPDATED = "dev.remedy.labels.updated"
AGENTS_STOPPED = "dev.remedy.agents.stopped"
WORKFLOW_RESUMED = "dev.remedy.workflow.resumed"
REMEDIATION_STARTED = "dev.remedy.remediation.started"
REMEDIATION_EXHAUSTED = "dev.remedy.remediation.exhausted"
PING = "dev.knative.sources.ping"

GITHUB_SOURCE = "GitHubSource"
PING_SOURCE = "PingSource"


@dataclass(frozen=True)
class EventType:
    type: str
    summary: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    data: str
    """Name of the data model in remedy.events.models (or the GitHub payload it carries)."""
    terminal: bool = False


CATALOGUE: tuple[EventType, ...] = (
    EventType(
        PUSH,
        "A git push (raw webhook body from webhook-gateway, or GitHubSource's struct).",
        (GITHUB_SOURCE, "webhook-gateway"),
        ("push-intake",),
        "GitHub push payload",
    ),
    EventType(
        PULL_REQUEST,
        "A pull request opened, reopened, labelled, ...",
        (GITHUB_SOURCE, "webhook-gateway"),
        ("workflow-resume",),
        "GitHub pull_request payload",
    ),
    EventType(
        PULL_REQUEST_REVIEW,
        "A review submitted on a pull request.",
        (GITHUB_SOURCE, "webhook-gateway"),
        ("feedback-intake", "workflow-resume"),
        "GitHub pull_request_review payload",
    ),
    EventType(
        ISSUE_COMMENT,
        "A comment on an issue or a pull request.",
        (GITHUB_SOURCE, "webhook-gateway"),
        ("feedback-intake",),
        "GitHub issue_comment payload",
    ),
    EventType(
        REMEDIATION_REQUESTED,
        "The implementation agent pushed to a task branch: obsolete review work must stop "
        "and the PR labels be reset (agent-cancel and label-update, in parallel).",
        ("push-intake",),
        ("agent-cancel", "label-update"),
        "RemediationRequested",
    ),
    EventType(
        CANCELLATION_REQUESTED,
        "A person or an agent asked control-api to cancel a task's review agents.",
        ("control-api",),
        ("agent-cancel",),
        "CancellationRequested",
    ),
    EventType(
        AGENTS_CANCELLED,
        "The push was admitted and the task's review agents deleted or asked to stop.",
        ("agent-cancel",),
        ("workflow-resume",),
        "AgentsCancelled",
    ),
    EventType(
        LABELS_UPDATED,
        "The task's pull request labels were reset for remediation.",
        ("label-update",),
        ("workflow-resume",),
        "LabelsUpdated",
    ),
    EventType(
        AGENTS_STOPPED,
        "Every cancelled agent of the task is confirmed stopped (acknowledged or forced).",
        ("control-api", "reconciler"),
        ("workflow-resume",),
        "AgentsStopped",
    ),
    EventType(
        WORKFLOW_RESUMED,
        "The task's play workflow was moved to a stage and resumed (or the resume was kept).",
        ("workflow-resume", "reconciler"),
        (),
        "WorkflowResumed",
        terminal=True,
    ),
    EventType(
        REMEDIATION_STARTED,
        "A QA review asked for changes and a counted Rex remediation run was created.",
        ("feedback-intake",),
        (),
        "RemediationStarted",
        terminal=True,
    ),
    EventType(
        REMEDIATION_EXHAUSTED,
        "The task reached its maximum remediation iterations: human intervention required.",
        ("feedback-intake",),
        (),
        "RemediationExhausted",
        terminal=True,
    ),
    EventType(
        PING,
        "The periodic tick that drives the reconciler.",
        (PING_SOURCE,),
        ("reconciler",),
        "PingSource data (ignored)",
    ),
)

BY_TYPE = {entry.type: entry for entry in CATALOGUE}
