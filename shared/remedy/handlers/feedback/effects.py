"""What counted feedback does, under the task's lock, each write at most once in effect.

Within the maximum: create the Rex remediation CodeRun (deterministic name: a repeated
create meets 409 and counts as done), stop Cleo's and Tess's unfinished runs through the
one cancellation path (:class:`remedy.handlers.common.cancelling.Canceller`, which never
touches Rex's runs), then move the PR's labels: ``-ready-for-qa`` (QA just rejected
it; a 404 means already gone), ``+remediation-in-progress +iteration-<n>``,
``-iteration-<n-1>``. Past it: no run; the PR gets ``-ready-for-qa`` and
``+failed-remediation``, and the task's state says a person must step in.

GitHub requests per counted feedback: 2 label writes at iteration 1, 3 from iteration
2 on, 2 past the maximum; one read more for a comment whose labels name no task; none
for a duplicate (:mod:`remedy.handlers.feedback.labels` has the table).

The run and each label write are ledger steps, skipped when a retry resumes after them.
The cancellation is not: it is idempotent (a run already asked in this epoch is not
asked again, a deleted one is gone) and its outcome lives in the state saved at the
end, so it is simply redone. Feedback resumed after a newer iteration was counted
still gets its run, but leaves the labels to the newer iteration, so ``iteration-<n>``
never goes backwards and ``ready-for-qa`` put back since is not taken off again.

Events: RemediationRunStarted on the Rex run this attempt created (the cancellations
tell their own), RemediationExhausted (a Warning) on the task's state ConfigMap; each
also counted for the metrics (``task.tally``: an iteration, an exhaustion).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from remedy.domain import audit, push_order
from remedy.domain import feedback as rules
from remedy.domain.audit import Reason
from remedy.domain.feedback import NO_SHA, Feedback, RunMade
from remedy.domain.remediation import RemediationState
from remedy.events.models import RemediationExhausted, RemediationStarted
from remedy.handlers.common.cancelling import Canceller, CancelRequest
from remedy.handlers.common.tasks import TaskStep
from remedy.handlers.feedback import labels as feedback_labels
from remedy.handlers.feedback.labels import LabelMove
from remedy.handlers.feedback.settings import FeedbackSettings
from remedy.handlers.feedback.targets import Target
from remedy.ports import PullRequests, Steps

_SHA1 = re.compile(r"^[0-9a-f]{40}$")
REQUESTED_BY = "remedy/feedback-intake"


class RemediationRuns(Protocol):
    """Creating remediation CodeRuns (the Kubernetes adapter in kube_runs)."""

    def create(self, body: Mapping[str, Any]) -> RunMade:
        """Create the run; ``"exists"`` when a run of that name already exists (409)."""


class Effects:
    def __init__(
        self,
        *,
        runs: RemediationRuns,
        prs: PullRequests,
        canceller: Canceller,
        settings: FeedbackSettings,
        producer: str,
    ) -> None:
        self._runs = runs
        self._prs = prs
        self._canceller = canceller
        self._settings = settings
        self._producer = producer

    def apply(
        self,
        task: TaskStep,
        *,
        feedback: Feedback,
        target: Target,
        iteration: int,
        delivery: str,
        steps: Steps,
        now: datetime,
    ) -> RemediationStarted | RemediationExhausted:
        state = task.state
        envelope: dict[str, Any] = {
            "task_id": target.task_id,
            "repository": feedback.repository.full_name,
            "pr_number": feedback.pr_number,
            "head_sha": target.head_sha or latest_head(state) or NO_SHA,
            "correlation_id": delivery,
            "epoch": max(state.epoch, 1),
        }
        maximum = self._settings.max_iterations
        asked = {
            "epoch": envelope["epoch"],
            "head": envelope["head_sha"],
            "requested_by": feedback.author,
            "why": f"QA feedback {feedback.key} on PR #{feedback.pr_number}",
        }
        if iteration > maximum:
            note = self._mark_failed(task, feedback, iteration=iteration, steps=steps)
            what = f"iteration {iteration} > max {maximum}: no run; {note}; a person must step in"
            task.audit(Reason.REMEDIATION_EXHAUSTED, None, what=what, **asked)
            task.tally.feedback("exhausted")
            state.feedback_done = max(state.feedback_done, iteration)
            self._log(
                state, now=now, delivery=delivery, outcome=f"iteration {iteration}: no run; {note}"
            )
            task.save()
            return RemediationExhausted(
                **envelope,
                iteration=iteration,
                max_iterations=self._settings.max_iterations,
                feedback_id=feedback.feedback_id,
            )
        name, created = self._create_run(
            task, feedback, target=target, iteration=iteration, steps=steps, asked=asked
        )
        outcomes = self._canceller.cancel(
            task,
            CancelRequest.all_downstream(
                task_id=target.task_id,
                epoch=envelope["epoch"],
                head=envelope["head_sha"],
                reason=f"QA feedback {feedback.key}: Rex remediation iteration {iteration}",
                requested_by=REQUESTED_BY,
            ),
            now,
        )
        labels = self._move_labels(task, feedback, iteration=iteration, steps=steps)
        cancelled = sum(1 for outcome in outcomes if outcome.action != "kept")
        state.feedback_done = max(state.feedback_done, iteration)
        self._log(
            state,
            now=now,
            delivery=delivery,
            outcome=f"iteration {iteration}: run {name} {created}, {cancelled} cancelled; {labels}",
        )
        task.save()
        return RemediationStarted(
            **envelope,
            iteration=iteration,
            coderun=name,
            feedback_id=feedback.feedback_id,
            feedback_type=feedback.kind,
        )

    def _create_run(
        self,
        task: TaskStep,
        feedback: Feedback,
        *,
        target: Target,
        iteration: int,
        steps: Steps,
        asked: dict[str, Any],
    ) -> tuple[str, str]:
        made = steps.get("run")
        if made is None:
            body = rules.remediation_run(
                spec=self._settings.run,
                feedback=feedback,
                task_id=target.task_id,
                iteration=iteration,
            )
            task.guard()
            created = self._runs.create(body)
            made = {"name": created.name, "outcome": created.outcome}
            steps.record("run", made)
            if created.outcome == "created":
                what = f"created Rex's remediation run, iteration {iteration}"
                run = audit.coderun(created.namespace, created.name, created.uid)
                task.audit(Reason.REMEDIATION_RUN_STARTED, run, what=what, **asked)
                task.tally.feedback("iteration")
        return str(made["name"]), str(made["outcome"])

    def _move_labels(
        self, task: TaskStep, feedback: Feedback, *, iteration: int, steps: Steps
    ) -> str:
        added = [self._settings.remediation_label, rules.iteration_label(iteration)]
        previous = [rules.iteration_label(iteration - 1)] if iteration > 1 else []
        move = LabelMove(remove=self._settings.remove_labels, add=added, drop=previous)
        return self._write(task, feedback, iteration=iteration, move=move, steps=steps)

    def _mark_failed(
        self, task: TaskStep, feedback: Feedback, *, iteration: int, steps: Steps
    ) -> str:
        move = LabelMove(remove=self._settings.remove_labels, add=[self._settings.failed_label])
        return self._write(task, feedback, iteration=iteration, move=move, steps=steps)

    def _write(
        self, task: TaskStep, feedback: Feedback, *, iteration: int, move: LabelMove, steps: Steps
    ) -> str:
        pull = (feedback.repository.full_name, feedback.pr_number)
        return feedback_labels.move(
            self._prs, task, pull=pull, iteration=iteration, labels=move, steps=steps
        )

    def _log(self, state: RemediationState, *, now: datetime, delivery: str, outcome: str) -> None:
        state.log(
            at=now, epoch=state.epoch, delivery=delivery, step=self._producer, outcome=outcome
        )


def latest_head(state: RemediationState) -> str | None:
    """The newest pushed head the task's state knows, for an envelope without one."""
    newest = push_order.newest(state.pushes)
    return newest.after if newest is not None and _SHA1.match(newest.after) else None
