"""agent-cancel's core: stop the obsolete review work of a task, never anything else.

For "remediation requested" (task T, head S, epoch E), under T's lock: a push that is
not the task's newest by :mod:`remedy.domain.push_order` (a duplicate of an admitted
push, replaced by a known push, older than the task's epoch) changes nothing; otherwise
the task moves to epoch E, and each downstream agent's run that is not already working
on S (or a newer head) is stopped — deleted at once when it has not started, otherwise asked to stop
(two-phase: a cancellation request on the CodeRun, guarded by its resourceVersion, that
the agent acknowledges through control-api; the reconciler forces it after the grace
period). Every outcome lands in the task's remediation state, which then says whether
all of epoch E's cancelled agents are confirmed stopped.

For the metrics (``task.tally``), a push refused here counts as a remediation
``duplicate``, ``superseded`` or ``failed`` (an epoch collision); a newest push that
moves the task past an epoch whose resume was still owed counts that one superseded.
"""

from __future__ import annotations

import logging
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import agents, push_order
from remedy.domain.agents import Obsolescence
from remedy.domain.branches import BRANCH_PREFIX
from remedy.domain.remediation import Head
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import AgentsCancelled, CancellationRequested, RemediationRequested
from remedy.handlers.common.cancelling import Canceller, CancelRequest
from remedy.handlers.common.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.common.results import Outcome
from remedy.handlers.common.resumes import owed
from remedy.handlers.common.tasks import TaskSteps
from remedy.ports import Idempotency, Rejected, Steps

log = logging.getLogger("remedy.agent_cancel")

PRODUCER = "agent-cancel"
REQUESTED_BY = "remedy/agent-cancel"


class AgentCancel:
    def __init__(self, *, canceller: Canceller, tasks: TaskSteps, idempotency: Idempotency) -> None:
        self._canceller = canceller
        self._tasks = tasks
        self._idempotency = idempotency

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] == catalogue.CANCELLATION_REQUESTED:
            asked = CancellationRequested.model_validate(event.get_data())
            return run_once(
                self._idempotency,
                event,
                consumer=PRODUCER,
                fingerprint=fingerprint_of(asked.model_dump(mode="json")),
                work=lambda steps: self._cancel_requested(asked),
            )
        if event["type"] != catalogue.REMEDIATION_REQUESTED:
            raise Rejected(f"agent-cancel does not take {event['type']} events")
        request = RemediationRequested.model_validate(event.get_data())
        traceparent = tracing.child(
            event.get_attributes().get("traceparent"), delivery_id=request.correlation_id
        )
        return run_once(
            self._idempotency,
            event,
            consumer=PRODUCER,
            fingerprint=fingerprint_of(request.model_dump(mode="json")),
            work=lambda steps: self._cancel(request, traceparent, steps),
        )

    def _cancel(
        self, request: RemediationRequested, traceparent: str, steps: Steps
    ) -> dict[str, Any]:
        now = self._tasks.clock()
        with self._tasks.open(request.task_id, request.repository) as task:
            state = task.state
            head = Head(
                sha=request.after_sha,
                before=request.before_sha,
                epoch=request.epoch,
                delivery=request.delivery_id,
                pushed_at=agents.format_time(request.pushed_at),
                ref=BRANCH_PREFIX + request.branch,
            )
            verdict = push_order.judge(head.push, state.pushes, floor=state.epoch)
            if isinstance(verdict, push_order.Collision):
                task.tally.remediation("failed")
                raise Rejected(push_order.describe(verdict, head.push))
            if not isinstance(verdict, push_order.Newest):
                duplicate = isinstance(verdict, push_order.Duplicate)
                task.tally.remediation("duplicate" if duplicate else "superseded")
                reason = push_order.describe(verdict, head.push)
                state.log(
                    at=now,
                    epoch=request.epoch,
                    delivery=request.delivery_id,
                    step=PRODUCER,
                    outcome=reason,
                )
                task.save()
                log.info("task %s: %s", request.task_id, reason)
                return ack(reason)
            if state.epoch < request.epoch and owed(state, state.epoch):
                task.tally.remediation("superseded")  # the task's current one, by this push
            state.record_head(head)
            state.epoch = max(state.epoch, request.epoch)
            state.branch = request.branch
            steps.record("admitted", {"epoch": request.epoch})
            obsolescence = Obsolescence(
                task_id=request.task_id,
                head_sha=request.after_sha,
                pushed_at=request.pushed_at,
                newer_heads=push_order.newer_heads(head.push, state.pushes),
            )
            outcomes = self._canceller.cancel(
                task,
                CancelRequest(
                    epoch=request.epoch,
                    for_head=request.after_sha,
                    reason=f"remediation push {request.after_sha[:12]} by {request.pusher}",
                    requested_by=REQUESTED_BY,
                    obsolescence=obsolescence,
                ),
                now,
            )
            all_stopped = state.all_stopped(request.epoch)
            acted = [o for o in outcomes if o.action != "kept"]
            state.log(
                at=now,
                epoch=request.epoch,
                delivery=request.delivery_id,
                step=PRODUCER,
                outcome=f"{len(acted)} cancelled, {len(outcomes) - len(acted)} kept",
            )
            task.save()
            steps.record("saved", {"all_stopped": all_stopped})
        data = AgentsCancelled(
            task_id=request.task_id,
            repository=request.repository,
            pr_number=state.pr_number,
            head_sha=request.after_sha,
            correlation_id=request.correlation_id,
            epoch=request.epoch,
            outcomes=tuple(outcomes),
            all_stopped=all_stopped,
        )
        return reply(
            task_event(
                data,
                producer=PRODUCER,
                event_id=event_id(request.correlation_id, "agents.cancelled"),
                traceparent=traceparent,
            )
        )

    def _cancel_requested(self, asked: CancellationRequested) -> dict[str, Any]:
        """A person's or an agent's request: stop every unfinished downstream run.

        Nothing else follows (no label reset, no workflow move): the outcome is in the
        task's state, where control-api shows it.
        """
        now = self._tasks.clock()
        with self._tasks.open(asked.task_id, asked.repository) as task:
            epoch = max(task.state.epoch, asked.epoch)
            outcomes = self._canceller.cancel(
                task,
                CancelRequest.all_downstream(
                    task_id=asked.task_id,
                    epoch=epoch,
                    head=asked.head_sha,
                    reason=asked.reason,
                    requested_by=asked.requested_by,
                ),
                now,
            )
            acted = sum(1 for o in outcomes if o.action != "kept")
            note = f"{acted} cancelled at the request of {asked.requested_by} ({asked.origin})"
            task.state.log(
                at=now, epoch=epoch, delivery=asked.correlation_id, step=PRODUCER, outcome=note
            )
            task.save()
        return ack(note)
