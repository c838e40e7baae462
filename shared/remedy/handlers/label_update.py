"""label-update's core: reset the task's PR labels for a remediation, cheaply and once.

After agent-cancel, under the task's lock: find the PR (remembered in the state after
the first time, else one read by head branch), remove ``ready-for-qa`` (a 404 means
already gone) and add ``remediation-in-progress`` — one label per write, never a PUT of
a set computed from a stale read, since GitHub has no compare-and-swap for labels. At
most one read and two writes per remediation; none for a duplicate (the ledger replays)
or a retry after the writes were recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cloudevents.http import CloudEvent

from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import AgentsCancelled, LabelsUpdated
from remedy.handlers.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.results import Outcome
from remedy.handlers.tasks import TaskStep, TaskSteps
from remedy.ports import Idempotency, PullRequests, Rejected, Steps

PRODUCER = "label-update"


@dataclass(frozen=True)
class LabelSettings:
    remove: tuple[str, ...] = ("ready-for-qa",)
    add: tuple[str, ...] = ("remediation-in-progress",)


class LabelUpdate:
    def __init__(
        self,
        *,
        prs: PullRequests,
        tasks: TaskSteps,
        idempotency: Idempotency,
        labels: LabelSettings,
    ) -> None:
        self._prs = prs
        self._tasks = tasks
        self._idempotency = idempotency
        self._labels = labels

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] != catalogue.AGENTS_CANCELLED:
            raise Rejected(f"label-update does not take {event['type']} events")
        cancelled = AgentsCancelled.model_validate(event.get_data())
        traceparent = tracing.child(
            event.get_attributes().get("traceparent"), delivery_id=cancelled.correlation_id
        )
        return run_once(
            self._idempotency,
            event,
            consumer=PRODUCER,
            fingerprint=fingerprint_of(cancelled.model_dump(mode="json")),
            work=lambda steps: self._update(cancelled, traceparent, steps),
        )

    def _update(self, cancelled: AgentsCancelled, traceparent: str, steps: Steps) -> dict[str, Any]:
        now = self._tasks.clock()
        epoch, delivery = cancelled.epoch, cancelled.correlation_id
        with self._tasks.open(cancelled.task_id, cancelled.repository) as task:
            state = task.state
            if epoch < state.epoch:
                return ack(f"superseded by epoch {state.epoch}; labels left to it")
            # Done before and the ledger lost its record of it (a failover)? The task's
            # state in Kubernetes is the backstop: reply again, write nothing again.
            requests, removed = (
                (0, []) if state.labels_epoch >= epoch else self._reset(task, cancelled, steps)
            )
            state.labels_epoch = max(state.labels_epoch, epoch)
            state.log(
                at=now, epoch=epoch, delivery=delivery, step=PRODUCER, outcome=state.labels_note
            )
            task.save()
            pr_number = state.pr_number
        data = LabelsUpdated(
            task_id=cancelled.task_id,
            repository=cancelled.repository,
            pr_number=pr_number,
            head_sha=cancelled.head_sha,
            correlation_id=delivery,
            epoch=epoch,
            removed=tuple(removed),
            added=self._labels.add if pr_number else (),
            github_requests=requests,
        )
        return reply(
            task_event(
                data,
                producer=PRODUCER,
                event_id=event_id(delivery, "labels.updated"),
                traceparent=traceparent,
            )
        )

    def _reset(
        self, task: TaskStep, cancelled: AgentsCancelled, steps: Steps
    ) -> tuple[int, list[str]]:
        """Find the PR (remembered after the first time), remove, add; each write once."""
        state, repository = task.state, cancelled.repository
        requests = 0
        removed: list[str] = []
        number = state.pr_number
        found = steps.get("pr")
        if number is None and found is not None:
            number = found.get("number")
        if number is None and found is None:
            task.guard()
            number = self._prs.find_open(
                repository, branch=state.branch or "", task_id=cancelled.task_id
            )
            requests += 1
            steps.record("pr", {"number": number})
        if number is None:
            state.labels_note = f"no open pull request for branch {state.branch!r}"
            return requests, removed
        state.pr_number = number
        for index, label in enumerate(self._labels.remove):
            done = steps.get(f"removed-{index}")
            if done is None:
                task.guard()
                done = {"removed": self._prs.remove_label(repository, number, label)}
                requests += 1
                steps.record(f"removed-{index}", done)
            if done["removed"]:
                removed.append(label)
        if self._labels.add and steps.get("added") is None:
            task.guard()
            self._prs.add_labels(repository, number, self._labels.add)
            requests += 1
            steps.record("added", {"labels": list(self._labels.add)})
        state.labels_note = f"PR #{number}: -{removed or '[]'} +{list(self._labels.add)}"
        return requests, removed
