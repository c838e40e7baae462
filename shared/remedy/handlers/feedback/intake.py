"""feedback-intake's core: a QA agent's "changes required" becomes a counted Rex run.

For one issue_comment or pull_request_review event:

1. Read and classify it (:mod:`remedy.domain.feedback`) before anything is recorded:
   edited or deleted comments, other authors, plain issues, comments without the
   marker and reviews of other states are acknowledged (202) with the reason.
2. Once per delivery (the idempotency ledger): find the task (the PR's ``task-<id>``
   label, else its head branch, read from GitHub once for a comment if need be).
3. Under the task's lock, *admit* it: feedback already counted is a duplicate and
   changes nothing; otherwise the task's iteration is incremented and the feedback id
   remembered, and the state is saved (resourceVersion compare-and-swap) before any
   outside write, so no concurrent or retried attempt can reuse the iteration.
4. Within the maximum, :mod:`remedy.handlers.feedback.effects` creates the Rex run,
   cancels Cleo's and Tess's runs and moves the labels; past it, it marks the PR and
   records that a person must step in. The reply is ``remediation.started`` or
   ``remediation.exhausted``.

Recovery. The iteration is recorded as a ledger step *before* the state is saved. A
retry of the same delivery that finds its feedback id in the state and its own step
recorded resumes with that iteration (no second increment); one that finds the id but
no step of its own is a different delivery of the same feedback: a duplicate. Saving
first and recording after would leave a gap (state saved, step lost) in which a retry
could only call its own feedback a duplicate and the run would never be made.

The ledger key is this function's own (``<delivery>:feedback-intake`` under the event's
source): workflow-resume takes pull_request_review events too, and two consumers of one
event must not share (or replay) each other's results.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent, from_json

from remedy.domain import feedback as rules
from remedy.domain.branches import TaskBranchPattern
from remedy.domain.feedback import Feedback
from remedy.domain.identifiers import validate_delivery_id
from remedy.domain.pushes import Ignored
from remedy.events import tracing
from remedy.events.codec import event_id, task_event
from remedy.handlers.common.cancelling import Canceller
from remedy.handlers.common.once import ack, fingerprint_of, reply
from remedy.handlers.common.results import Ack, Outcome, Reply
from remedy.handlers.common.tasks import TaskStep, TaskSteps
from remedy.handlers.feedback.effects import Effects, RemediationRuns
from remedy.handlers.feedback.events import KINDS, feedback_facts
from remedy.handlers.feedback.settings import FeedbackSettings
from remedy.handlers.feedback.targets import PullHeads, Target, resolve
from remedy.ports import Idempotency, PullRequests, Rejected, Steps

log = logging.getLogger("remedy.feedback_intake")

PRODUCER = "feedback-intake"


class FeedbackIntake:
    def __init__(
        self,
        *,
        settings: FeedbackSettings,
        runs: RemediationRuns,
        heads: PullHeads,
        prs: PullRequests,
        canceller: Canceller,
        tasks: TaskSteps,
        idempotency: Idempotency,
        branches: TaskBranchPattern,
    ) -> None:
        self._settings = settings
        self._heads = heads
        self._tasks = tasks
        self._idempotency = idempotency
        self._branches = branches
        self._effects = Effects(
            runs=runs, prs=prs, canceller=canceller, settings=settings, producer=PRODUCER
        )

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] not in KINDS:
            raise Rejected(f"feedback-intake takes comment and review events, not {event['type']}")
        decision = rules.classify(feedback_facts(event), self._settings.policy)
        if isinstance(decision, Ignored):
            return Ack(decision.reason)
        delivery = validate_delivery_id(str(event["id"]))
        traceparent = tracing.child(event.get_attributes().get("traceparent"), delivery_id=delivery)
        result = self._idempotency.once(
            source=str(event["source"]).lower(),
            event_id=event_id(delivery, PRODUCER),
            fingerprint=fingerprint_of(
                {
                    "feedback": decision.key,
                    "repository": decision.repository.full_name,
                    "pr": decision.pr_number,
                }
            ),
            work=lambda steps: self._take(
                decision, delivery=delivery, traceparent=traceparent, steps=steps
            ),
        )
        if "event" in result:
            return Reply(from_json(str(result["event"])))
        return Ack(str(result.get("ack", "already done")))

    def _take(
        self, feedback: Feedback, *, delivery: str, traceparent: str, steps: Steps
    ) -> dict[str, Any]:
        target = resolve(feedback, branches=self._branches, heads=self._heads, steps=steps)
        if isinstance(target, str):
            log.info("%s: %s", feedback.key, target)
            return ack(target)
        now = self._tasks.clock()
        with self._tasks.open(target.task_id, feedback.repository.full_name) as task:
            iteration = self._admit(
                task, feedback, target=target, delivery=delivery, steps=steps, now=now
            )
            if iteration is None:
                note = f"duplicate feedback {feedback.key}: task {target.task_id} counted it"
                log.info(note)
                return ack(note)
            data = self._effects.apply(
                task, feedback=feedback, target=target, iteration=iteration, delivery=delivery,
                steps=steps, now=now,
            )  # fmt: skip
        return reply(
            task_event(
                data,
                producer=PRODUCER,
                event_id=event_id(delivery, data.event_type.removeprefix("dev.remedy.")),
                traceparent=traceparent,
            )
        )

    def _admit(
        self,
        task: TaskStep,
        feedback: Feedback,
        *,
        target: Target,
        delivery: str,
        steps: Steps,
        now: datetime,
    ) -> int | None:
        """This feedback's iteration, counted now or by an earlier attempt; None if a
        duplicate whose effects are done.

        The ledger records an attempt's steps; the task's state is the backstop when that
        record is lost (a Redis failover): feedback the state counted but whose effects it
        does not show done is taken up again at its iteration (the run's create and the
        cancellations are idempotent, the label writes go only to the newest iteration).
        """
        state = task.state
        recorded = steps.get("counted")
        counted = rules.counted_as(state, feedback.key)
        if counted is not None:
            if recorded is not None and recorded.get("feedback") == feedback.key:
                return int(recorded["iteration"])
            if counted > state.feedback_done:
                steps.record("counted", {"feedback": feedback.key, "iteration": counted})
                return counted
            return None
        iteration = state.iteration + 1
        steps.record("counted", {"feedback": feedback.key, "iteration": iteration})
        maximum = self._settings.max_iterations
        rules.count(state, feedback.key, iteration=iteration, max_iterations=maximum)
        state.pr_number = feedback.pr_number
        state.branch = state.branch or target.branch
        outcome = f"{feedback.key} by {feedback.author}: iteration {iteration}"
        if iteration > maximum:
            outcome = f"human intervention required: iteration {iteration} > max {maximum}"
        state.log(at=now, epoch=state.epoch, delivery=delivery, step=PRODUCER, outcome=outcome)
        task.save()
        return iteration
