"""Which pull request events end which wait of the play workflow.

- a pull request opened or reopened from a task branch ends ``waiting-pr-created``;
- ``ready-for-qa`` added *by the quality agent* ends ``waiting-ready-for-qa`` (the same
  label added by anyone else is ignored: only Cleo's judgement counts);
- an approval *by the QA agent* ends ``waiting-pr-approved``.

The original system matched the wrong bot login and a branch scheme that later changed;
logins and the branch pattern are configuration here, compared as GitHub compares them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from remedy.domain.branches import TaskBranchPattern
from remedy.domain.identifiers import MAX_TASK_ID, LoginSet
from remedy.domain.pushes import Ignored
from remedy.domain.stages import Stage

_TASK_LABEL = re.compile(r"^task-([1-9][0-9]{0,6})$")


@dataclass(frozen=True)
class StagePolicy:
    branches: TaskBranchPattern
    quality_agents: LoginSet
    qa_agents: LoginSet
    ready_label: str = "ready-for-qa"


@dataclass(frozen=True)
class StageEvent:
    stage: Stage
    task_id: int
    reason: str


def task_of(labels: tuple[str, ...], head_ref: str, branches: TaskBranchPattern) -> int | None:
    """The task a PR is for: its ``task-<id>`` label, else its head branch."""
    for label in labels:
        match = _TASK_LABEL.match(label)
        if match and int(match.group(1)) <= MAX_TASK_ID:
            return int(match.group(1))
    return branches.task_id(head_ref)


def classify(
    *,
    kind: str,
    action: str,
    labels: tuple[str, ...],
    head_ref: str,
    label: str | None,
    sender: str,
    review_state: str | None,
    reviewer: str | None,
    policy: StagePolicy,
) -> StageEvent | Ignored:
    task_id = task_of(labels, head_ref, policy.branches)
    if task_id is None:
        return Ignored(f"the pull request (branch {head_ref!r}) names no task")
    if kind == "pull_request":
        if action in ("opened", "reopened"):
            return StageEvent(Stage.WAITING_PR_CREATED, task_id, f"pull request {action}")
        if action == "labeled" and label == policy.ready_label:
            if sender in policy.quality_agents:
                return StageEvent(Stage.WAITING_READY_FOR_QA, task_id, f"{label} by {sender}")
            return Ignored(f"{label} added by {sender}, not the quality agent")
        return Ignored(f"pull_request {action} {label or ''} ends no wait".strip())
    if kind == "pull_request_review":
        if action != "submitted":
            return Ignored(f"review {action}, not submitted")
        if review_state != "approved":
            return Ignored(f"review state {review_state}, not approved")
        if reviewer not in policy.qa_agents:
            return Ignored(f"approved by {reviewer}, not the QA agent")
        return StageEvent(Stage.WAITING_PR_APPROVED, task_id, f"approved by {reviewer}")
    return Ignored(f"{kind} events end no wait")
