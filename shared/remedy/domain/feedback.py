"""QA feedback: what counts, how it is counted, and the Rex remediation run it starts.

The original system matched any comment with a loose pattern, on any issue, by anyone,
and its iteration counter was the constant "1". Here feedback is narrow on purpose:

- a comment *created* on a pull request (not a plain issue) by a QA-agent login (case
  insensitive, as GitHub compares logins) whose body carries the required-changes
  marker anywhere in its markdown, or
- a review *submitted* by a QA-agent login with state ``changes_requested``.

Everything else is acknowledged with a reason. Each accepted piece of feedback is
counted once (by ``comment:<id>`` / ``review:<id>``) in the task's remediation state;
the count is the iteration, and past the maximum a person has to step in.

The marker is matched on normalised text (case folded, markdown emphasis and the emoji
variation selector dropped, whitespace collapsed) so ``### 🔴 **Required Changes**``
counts as well as the plain marker: the agent writes markdown, not a fixed string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from remedy.domain.identifiers import LoginSet, Repository, validate_task_id
from remedy.domain.pushes import Ignored
from remedy.domain.remediation import RemediationState

FeedbackKind = Literal["comment", "review"]
RunCreated = Literal["created", "exists"]
"""What creating a remediation run found: it made it, or one of that name existed."""


@dataclass(frozen=True)
class RunMade:
    """A remediation run created (or found existing), and where: for its Event."""

    outcome: RunCreated
    namespace: str
    name: str
    uid: str = ""
    """The created run's uid; empty when it already existed."""


DEFAULT_MARKER = "🔴 Required Changes"
DEFAULT_QA_AGENTS = "5DLabs-Tess,5DLabs-Tess[bot]"
DEFAULT_MODEL = "claude-sonnet-4-20250514"
TRIGGER_TYPE = "qa-feedback"
CHANGES_REQUESTED = "changes_requested"
MAX_FEEDBACK_IDS = 200
"""Feedback ids remembered per task for deduplication (far more than any iteration cap)."""

NO_SHA = "0" * 40
"""The envelope's head when the PR head is not known (a comment carries none)."""

_EMPHASIS = re.compile("[*_`~]|\ufe0f")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class FeedbackFacts:
    """What an issue_comment or pull_request_review event says, however it arrived."""

    kind: FeedbackKind
    repository: Repository
    action: str
    feedback_id: int
    author: str
    body: str
    number: int
    on_pull_request: bool
    labels: tuple[str, ...] = ()
    head_ref: str = ""
    head_sha: str = ""
    review_state: str = ""


@dataclass(frozen=True)
class FeedbackPolicy:
    qa_agents: LoginSet
    marker: str = DEFAULT_MARKER


@dataclass(frozen=True)
class Feedback:
    """Accepted feedback: a QA agent asked for changes on pull request ``pr_number``."""

    kind: FeedbackKind
    feedback_id: int
    repository: Repository
    pr_number: int
    author: str
    labels: tuple[str, ...]
    head_ref: str
    head_sha: str

    @property
    def key(self) -> str:
        """How the task's state remembers it: ``comment:<id>`` or ``review:<id>``."""
        return f"{self.kind}:{self.feedback_id}"


def normalise(text: str) -> str:
    return " ".join(_EMPHASIS.sub("", text).casefold().split())


def carries_marker(body: str, marker: str) -> bool:
    wanted = normalise(marker)
    return bool(wanted) and wanted in normalise(body)


def classify(facts: FeedbackFacts, policy: FeedbackPolicy) -> Feedback | Ignored:
    if facts.kind == "comment":
        reason = _comment_refusal(facts, policy)
    else:
        reason = _review_refusal(facts, policy)
    if reason is not None:
        return Ignored(reason)
    return Feedback(
        kind=facts.kind,
        feedback_id=facts.feedback_id,
        repository=facts.repository,
        pr_number=facts.number,
        author=facts.author,
        labels=facts.labels,
        head_ref=facts.head_ref,
        head_sha=facts.head_sha if _SHA.match(facts.head_sha) else "",
    )


def _comment_refusal(facts: FeedbackFacts, policy: FeedbackPolicy) -> str | None:
    if facts.action != "created":
        return f"comment {facts.feedback_id} {facts.action or 'changed'}: only new comments count"
    if not facts.on_pull_request:
        return f"comment on issue #{facts.number}, which is not a pull request"
    if facts.author not in policy.qa_agents:
        return f"comment by {facts.author or '(unknown)'}, not a QA agent"
    if not carries_marker(facts.body, policy.marker):
        return f"comment by {facts.author} does not carry {policy.marker!r}"
    return None


def _review_refusal(facts: FeedbackFacts, policy: FeedbackPolicy) -> str | None:
    if facts.action != "submitted":
        return f"review {facts.feedback_id} {facts.action or 'changed'}: only submissions count"
    if facts.review_state.lower() != CHANGES_REQUESTED:
        return f"review state {facts.review_state or '(none)'}, not {CHANGES_REQUESTED}"
    if facts.author not in policy.qa_agents:
        return f"review by {facts.author or '(unknown)'}, not a QA agent"
    return None


# -- counting -----------------------------------------------------------------------


def count(state: RemediationState, key: str, *, iteration: int, max_iterations: int) -> None:
    """Count feedback ``key`` as ``iteration`` (the state's next) in the task's state."""
    if iteration != state.iteration + 1:
        raise ValueError(f"iteration {iteration} does not follow {state.iteration}")
    state.iteration = iteration
    state.feedback_ids = [*state.feedback_ids, key][-MAX_FEEDBACK_IDS:]
    if iteration > max_iterations:
        state.human_intervention_required = True


def counted_as(state: RemediationState, key: str) -> int | None:
    """The iteration ``key`` was counted as, if the state still lists it."""
    if key not in state.feedback_ids:
        return None
    from_the_end = len(state.feedback_ids) - 1 - state.feedback_ids.index(key)
    return state.iteration - from_the_end


def iteration_label(iteration: int) -> str:
    return f"iteration-{iteration}"


# -- the Rex remediation run ----------------------------------------------------------


@dataclass(frozen=True)
class PullHead:
    """A pull request's head branch and commit, as GitHub reports them."""

    ref: str
    sha: str


@dataclass(frozen=True)
class RexRunSpec:
    """The parts of the remediation CodeRun that are configuration, not feedback."""

    github_app: str
    model: str = DEFAULT_MODEL
    service: str | None = None
    """Default: the repository's name."""
    docs_repository_url: str | None = None
    """Default: the repository's own URL."""
    working_directory: str = "."


def run_name(task_id: int, iteration: int) -> str:
    """Deterministic per task and iteration, so a repeated create meets 409 AlreadyExists."""
    return f"rex-remediation-t{validate_task_id(task_id)}-i{iteration}"


def remediation_run(
    *, spec: RexRunSpec, feedback: Feedback, task_id: int, iteration: int
) -> dict[str, Any]:
    """The ``agents.platform/v1`` CodeRun (every field the CRD requires) for one iteration."""
    repository = feedback.repository
    return {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": {
            "name": run_name(task_id, iteration),
            "labels": {
                "task-id": str(task_id),
                "pr-number": str(feedback.pr_number),
                "trigger-type": TRIGGER_TYPE,
                "remediation-iteration": str(iteration),
                "github-app": spec.github_app,
            },
            "annotations": {"remedy.dev/feedback": feedback.key},
        },
        "spec": {
            "taskId": task_id,
            "service": spec.service or repository.name,
            "repositoryUrl": repository.html_url,
            "docsRepositoryUrl": spec.docs_repository_url or repository.html_url,
            "workingDirectory": spec.working_directory,
            "model": spec.model,
            "githubApp": spec.github_app,
            "continueSession": True,
            "env": {
                "REMEDIATION_MODE": "true",
                "FEEDBACK_ID": str(feedback.feedback_id),
                "FEEDBACK_TYPE": feedback.kind,
                "ITERATION_COUNT": str(iteration),
                "PR_NUMBER": str(feedback.pr_number),
            },
        },
    }
