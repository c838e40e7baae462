"""One step of a task's saga: under the task's lock, on the task's remediation state.

Every step that changes the world does it here: it holds the per-task Redlock (mutual
exclusion), refuses to act on a state written by a newer lock holder (the fence), checks
that its lease is still comfortably valid before each external write (a paused holder
stops instead of writing), and saves the state with a resourceVersion compare-and-swap.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

from remedy.domain.identifiers import task_lock_resource
from remedy.domain.remediation import RemediationState
from remedy.ports import Clock, Lease, Locks, RemediationStates, RetryLater

LEASE_MARGIN_S = 1.0
"""Stop rather than start an external write with less lock validity than this left."""


class LeaseExpired(RetryLater):
    """The task lock ran out (or nearly) mid-step: stop before writing, retry later."""


class NoState(LookupError):
    """The task has no remediation state, and the step may not start one."""


class StaleHolder(RetryLater):
    """A newer lock holder already wrote the state: this holder must not act."""


@dataclass
class TaskStep:
    state: RemediationState
    lease: Lease
    resource_version: str | None
    _states: RemediationStates

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


@dataclass(frozen=True)
class TaskSteps:
    locks: Locks
    states: RemediationStates
    clock: Clock

    @contextlib.contextmanager
    def open(self, task_id: int, repository: str | None) -> Iterator[TaskStep]:
        """Lock the task and load its state; a new one for ``repository`` if it has
        none, or :class:`NoState` when ``repository`` is None."""
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
            yield TaskStep(state=state, lease=lease, resource_version=version, _states=self.states)
