"""Which task a piece of feedback is for: the PR's ``task-<id>`` label, else its branch.

A review carries its pull request (labels and head branch); a comment carries only the
issue's labels. When those name no task, one GitHub read of the pull request gives the
head branch (and its commit), and the answer is recorded as a recovery point so a
retried delivery does not read again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from remedy.domain.branches import TaskBranchPattern
from remedy.domain.feedback import Feedback, PullHead
from remedy.domain.stage_events import task_of
from remedy.ports import Steps

_SHA = re.compile(r"^[0-9a-f]{40}$")


class PullHeads(Protocol):
    """One read of a pull request's head (the GitHub adapter in github_pull_heads)."""

    def head_of(self, repository: str, number: int) -> PullHead | None:
        """The PR's head branch and commit; None when there is no such pull request."""


@dataclass(frozen=True)
class Target:
    task_id: int
    head_sha: str | None
    branch: str | None


def resolve(
    feedback: Feedback, *, branches: TaskBranchPattern, heads: PullHeads, steps: Steps
) -> Target | str:
    """The task the feedback is for, or the reason there is none."""
    ref, sha = feedback.head_ref, feedback.head_sha
    task_id = task_of(feedback.labels, ref, branches)
    if task_id is None and not ref:
        looked = steps.get("pull")
        if looked is None:
            head = heads.head_of(feedback.repository.full_name, feedback.pr_number)
            looked = {"found": head is not None, "ref": head.ref if head else "", "sha": ""}
            if head is not None and _SHA.match(head.sha):
                looked["sha"] = head.sha
            steps.record("pull", looked)
        if not looked["found"]:
            return f"pull request #{feedback.pr_number} of {feedback.repository} not found"
        ref, sha = str(looked["ref"]), str(looked["sha"])
        task_id = branches.task_id(ref)
    if task_id is None:
        return (
            f"pull request #{feedback.pr_number} has no task-<id> label and its branch "
            f"{ref or '(unknown)'!r} names no task"
        )
    return Target(task_id=task_id, head_sha=sha or None, branch=ref or None)
