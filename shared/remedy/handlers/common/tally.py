"""Counting what a step decided (the :class:`~remedy.ports.Tally` port), as it audits.

A step that holds a task counts into :class:`Pending`, which remembers; the counts go
to the real tally once the step lets go of the task, with its Kubernetes Events
(:meth:`~remedy.handlers.common.tasks.TaskSteps.open`) — never while the lock is held,
and also when the step failed after an effect (the effect happened; it counts). So a
step retried after its effect, which finds the work done, counts nothing again, exactly
as it writes no Event again. Steps built without a tally count into :data:`NO_TALLY`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from remedy.domain.outcomes import CancellationOutcome, FeedbackOutcome, RemediationOutcome
from remedy.ports import Tally


class NoTally:
    """A tally that counts nothing (steps built without one, tests)."""

    def remediation_requested(self) -> None:
        return None

    def remediation(
        self, outcome: RemediationOutcome, *, pushed_at: datetime | None = None
    ) -> None:
        return None

    def cancellation_requested(self) -> None:
        return None

    def cancellation(self, outcome: CancellationOutcome) -> None:
        return None

    def feedback(self, outcome: FeedbackOutcome) -> None:
        return None


NO_TALLY = NoTally()


class Pending:
    """A tally that remembers what a step counted, to :meth:`replay` it later."""

    def __init__(self) -> None:
        self._counted: list[Callable[[Tally], None]] = []

    def remediation_requested(self) -> None:
        self._counted.append(lambda tally: tally.remediation_requested())

    def remediation(
        self, outcome: RemediationOutcome, *, pushed_at: datetime | None = None
    ) -> None:
        self._counted.append(lambda tally: tally.remediation(outcome, pushed_at=pushed_at))

    def cancellation_requested(self) -> None:
        self._counted.append(lambda tally: tally.cancellation_requested())

    def cancellation(self, outcome: CancellationOutcome) -> None:
        self._counted.append(lambda tally: tally.cancellation(outcome))

    def feedback(self, outcome: FeedbackOutcome) -> None:
        self._counted.append(lambda tally: tally.feedback(outcome))

    def replay(self, into: Tally) -> None:
        """Count everything remembered into ``into``, once."""
        counted, self._counted = self._counted, []
        for count in counted:
            count(into)
