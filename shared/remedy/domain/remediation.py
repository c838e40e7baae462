"""A task's remediation state: the saga's memory, kept in one ConfigMap per task.

The original system's state was last-writer-wins and its iteration counter a constant.
Here the state is one document written with a resourceVersion compare-and-swap (the
adapter's job) and every decision that must survive a crash or a reordered event is
in it: which heads were pushed in which order, the current epoch, every cancellation
and whether its agent is confirmed stopped, whether the labels were reset, a resume
kept for a workflow not yet at its suspend point, and a bounded history.

The admitted pushes (``heads``) are ordered by :mod:`remedy.domain.push_order`, the
one rule every path uses: identity, then the branch's chain, then push time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from remedy.domain.agents import format_time
from remedy.domain.push_order import Push

MAX_HEADS = 50
MAX_HISTORY = 100
MAX_CANCELLATIONS = 100

CancellationStatus = Literal["requested", "acknowledged", "deleted", "forced", "gone"]
STOPPED: frozenset[str] = frozenset({"deleted", "forced", "gone"})


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class Head(_Model):
    """An admitted push: its head ``sha``, the ``before`` it replaced, its epoch."""

    sha: str
    before: str
    epoch: int
    delivery: str
    pushed_at: str
    ref: str = ""
    """The pushed ref (absent in states written before refs were recorded)."""

    @property
    def push(self) -> Push:
        return Push(
            ref=self.ref,
            before=self.before,
            after=self.sha,
            epoch=self.epoch,
            delivery=self.delivery,
        )


class Cancellation(_Model):
    namespace: str
    name: str
    uid: str
    agent: str
    epoch: int
    for_head: str
    requested_at: str
    deadline: str
    status: CancellationStatus
    outcome: str = ""
    reason: str = ""
    """Why it was asked for (as on the run's ``cancel-reason``; "" in older states)."""
    requested_by: str = ""
    """Who asked: ``remedy/agent-cancel`` for a push, else the caller (as on the run)."""

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def stopped(self) -> bool:
        return self.status in STOPPED


class KeptResume(_Model):
    """A resume decided while the workflow was not at a suspend point yet."""

    epoch: int
    delivery: str
    target_stage: str
    head: str = ""
    """The pushed head a remediation resume is for ("" for stage events)."""
    reason: str
    kept_at: str


class Event(_Model):
    at: str
    epoch: int
    delivery: str
    step: str
    outcome: str


class RemediationState(_Model):
    task_id: int
    repository: str
    branch: str | None = None
    pr_number: int | None = None
    epoch: int = 0
    """The epoch of the newest remediation; older sagas stop before their next write."""
    fence: int = 0
    """The highest lock fence that wrote this state; a lower one is a stale holder."""
    heads: list[Head] = Field(default_factory=list)
    cancellations: dict[str, Cancellation] = Field(default_factory=dict)
    labels_epoch: int = 0
    labels_note: str = ""
    resumed_epoch: int = 0
    kept_resume: KeptResume | None = None
    """A remediation's resume, kept until the workflow reaches a suspend point."""
    kept_stage_resumes: list[KeptResume] = Field(default_factory=list)
    """Stage events (PR opened, ready-for-qa, approved) that came before their stage."""
    stage_resumes: dict[str, int] = Field(default_factory=dict)
    """Stage → the epoch in which the workflow was resumed at it (once per cycle)."""
    workflow_note: str = ""
    iteration: int = 0
    feedback_ids: list[str] = Field(default_factory=list)
    feedback_done: int = 0
    """The newest iteration whose effects (run, cancellations, labels) all completed: a
    counted feedback above it is redone on its next delivery, even if the ledger lost
    the record of its attempt."""
    human_intervention_required: bool = False
    history: list[Event] = Field(default_factory=list)

    # -- pushes -----------------------------------------------------------------

    @property
    def pushes(self) -> list[Push]:
        """The admitted pushes, as :mod:`remedy.domain.push_order` compares them."""
        return [head.push for head in self.heads]

    def record_head(self, head: Head) -> None:
        if all(known.epoch != head.epoch for known in self.heads):
            self.heads = [*self.heads, head][-MAX_HEADS:]

    # -- cancellations ------------------------------------------------------------

    def cancellations_for(self, epoch: int) -> list[Cancellation]:
        return [c for c in self.cancellations.values() if c.epoch == epoch]

    def all_stopped(self, epoch: int) -> bool:
        return all(c.stopped for c in self.cancellations_for(epoch))

    def put_cancellation(self, cancellation: Cancellation) -> None:
        entries = dict(self.cancellations)
        entries[cancellation.key] = cancellation
        if len(entries) > MAX_CANCELLATIONS:
            oldest = sorted((c for c in entries.values() if c.stopped), key=lambda c: c.epoch)
            for stale in oldest[: len(entries) - MAX_CANCELLATIONS]:
                entries.pop(stale.key)
        self.cancellations = entries

    # -- history ------------------------------------------------------------------

    def log(self, *, at: datetime, epoch: int, delivery: str, step: str, outcome: str) -> None:
        event = Event(
            at=format_time(at), epoch=epoch, delivery=delivery, step=step, outcome=outcome
        )
        self.history = [*self.history, event][-MAX_HISTORY:]
