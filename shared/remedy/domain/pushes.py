"""Deciding whether a push is a remediation push.

A remediation push is one the implementation agent made to a task branch: it makes
whatever Cleo and Tess are doing for that task obsolete. Everything else — tags,
branch deletions, other people's pushes, branches that name no task — is ignored with
a reason a person can read in the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from remedy.domain.branches import BRANCH_PREFIX, TAG_PREFIX, TaskBranchPattern
from remedy.domain.identifiers import LoginSet, Repository, TaskRef

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class PushFacts:
    """What remedy needs from a push event, however it arrived (raw or re-serialised)."""

    repository: Repository
    ref: str
    before: str
    after: str
    pusher: str
    sender: str
    deleted: bool
    forced: bool = False
    pushed_at: datetime | None = None
    """When GitHub says the push happened (``repository.pushed_at``), if it says."""


@dataclass(frozen=True)
class RemediationPush:
    task: TaskRef
    branch: str
    before: str
    after: str
    pusher: str
    forced: bool
    pushed_at: datetime | None


@dataclass(frozen=True)
class Ignored:
    reason: str


@dataclass(frozen=True)
class PushPolicy:
    implementation_agents: LoginSet
    branches: TaskBranchPattern


def classify(push: PushFacts, policy: PushPolicy) -> RemediationPush | Ignored:
    agents = policy.implementation_agents
    if push.pusher not in agents and push.sender not in agents:
        return Ignored(
            f"pushed by {push.pusher!r} (sender {push.sender!r}), "
            f"not an implementation agent ({', '.join(agents.logins)})"
        )
    if push.ref.startswith(TAG_PREFIX):
        return Ignored(f"{push.ref} is a tag, not a branch")
    if not push.ref.startswith(BRANCH_PREFIX):
        return Ignored(f"{push.ref!r} is not a branch ref")
    branch = push.ref.removeprefix(BRANCH_PREFIX)
    if push.deleted or push.after == ZERO_SHA:
        return Ignored(f"branch {branch} was deleted")
    task_id = policy.branches.task_id(branch)
    if task_id is None:
        return Ignored(f"branch {branch!r} does not name a task")
    return RemediationPush(
        task=TaskRef(repository=push.repository, task_id=task_id),
        branch=branch,
        before=push.before,
        after=push.after,
        pusher=push.pusher or push.sender,
        forced=push.forced,
        pushed_at=push.pushed_at,
    )
