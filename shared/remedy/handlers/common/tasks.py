"""One step of a task's saga: under the task's lock, on the task's remediation state.

Every step that changes the world does it here: it holds the per-task Redlock (mutual
exclusion), refuses to act on a state written by a newer lock holder (the fence), checks
that its lease is still comfortably valid before each external write (a paused holder
stops instead of writing), and saves the state with a resourceVersion compare-and-swap.

What a step did is also told as Kubernetes Events (:mod:`remedy.domain.audit`): the
step notes each effect as it makes it (:meth:`TaskStep.audit`), and the notes are
written once the task's lock is released — after the state is saved, never holding
the lock for them — and also when the step failed after an effect (the effect
happened; its Event says so). Writing them is best-effort (:class:`AuditTrail`). What
the step decided is counted for the metrics the same way, into :attr:`TaskStep.tally`
(:mod:`remedy.handlers.common.tally`), and counted when the Events are written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from remedy.domain import audit
from remedy.domain.audit import EventType, ObjectRef, Reason
from remedy.domain.identifiers import task_lock_resource
from remedy.domain.remediation import RemediationState
from remedy.handlers.common.tally import NO_TALLY, Pending
from remedy.ports import AuditTrail, Clock, Lease, Locks, RemediationStates, RetryLater, Tally

LEASE_MARGIN_S = 1.0
"""Stop rather than start an external write with less lock validity than this left."""


class LeaseExpired(RetryLater):
    """The task lock ran out (or nearly) mid-step: stop before writing, retry later."""


class NoState(LookupError):
    """The task has no remediation state, and the step may not start one."""


class StaleHolder(RetryLater):
    """A newer lock holder already wrote the state: this holder must not act."""


@dataclass(frozen=True)
class Noted:
    """An Event to write once the step lets go of the task; ``regarding`` None: the
    task's state ConfigMap (resolved then, when a first save has given it a uid)."""

    regarding: ObjectRef | None
    reason: Reason
    note: str


@dataclass
class TaskStep:
    state: RemediationState
    lease: Lease
    resource_version: str | None
    _states: RemediationStates
    noted: list[Noted] = field(default_factory=list)
    tally: Pending = field(default_factory=Pending)
    """What this step decided, for the metrics: counted once it lets go of the task."""

    def audit(
        self,
        reason: Reason,
        regarding: ObjectRef | None,
        *,
        what: str,
        epoch: int,
        head: str,
        requested_by: str,
        why: str,
    ) -> None:
        """Note an effect of this step for the audit trail (``regarding`` None: on the
        task's state ConfigMap, for what has no Kubernetes object of its own)."""
        text = audit.note(
            task_id=self.state.task_id,
            head=head,
            epoch=epoch,
            what=what,
            requested_by=requested_by,
            why=why,
        )
        self.noted.append(Noted(regarding, reason, text))

    def guard(self) -> None:
        if self.lease.remaining_s() < LEASE_MARGIN_S:
            raise LeaseExpired(
                f"the lock on task {self.state.task_id} is about to expire; stopping "
                "before the next write"
            )

    def save(self) -> None:
        self.guard()
        self.state.fence = max(self.state.fence, self.lease.fence)
        self.resource_version = self._states.save(
            self.state, resource_version=self.resource_version
        )


class NoAudit:
    """An audit trail that records nothing (steps built without one)."""

    def record(
        self,
        regarding: ObjectRef,
        *,
        reason: str,
        action: str,
        note: str,
        type: EventType = "Normal",
    ) -> None:
        return None


NO_AUDIT = NoAudit()


@dataclass(frozen=True)
class TaskSteps:
    locks: Locks
    states: RemediationStates
    clock: Clock
    audit: AuditTrail = NO_AUDIT
    tally: Tally = NO_TALLY

    @contextlib.contextmanager
    def open(self, task_id: int, repository: str | None) -> Iterator[TaskStep]:
        """Lock the task and load its state; a new one for ``repository`` if it has
        none, or :class:`NoState` when ``repository`` is None. The step's Events are
        written, and what it decided counted, after the lock is released."""
        noted: list[Noted] = []
        counted = Pending()
        try:
            with self.locks.hold(task_lock_resource(task_id)) as lease:
                state, version = self.states.load(task_id)
                if state is None and repository is None:
                    raise NoState(f"task {task_id} has no remediation state")
                if state is None:
                    state = RemediationState(task_id=task_id, repository=str(repository))
                if lease.fence < state.fence:
                    raise StaleHolder(
                        f"task {task_id}'s state was written under fence {state.fence}, "
                        f"newer than ours ({lease.fence})"
                    )
                yield TaskStep(
                    state=state,
                    lease=lease,
                    resource_version=version,
                    _states=self.states,
                    noted=noted,
                    tally=counted,
                )
        finally:
            self._write(task_id, noted)
            counted.replay(self.tally)

    def _write(self, task_id: int, noted: list[Noted]) -> None:
        for each in noted:
            entry = audit.BY_REASON[each.reason]
            self.audit.record(
                each.regarding or self.states.ref(task_id),
                reason=entry.reason,
                action=entry.action,
                note=each.note,
                type=entry.type,
            )
