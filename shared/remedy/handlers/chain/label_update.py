"""label-update's core: reset the task's PR labels for a remediation, cheaply and once.

It takes "remediation requested" itself, alongside agent-cancel (the labels do not
depend on which agents were stopped), so the chain's critical path is one hop shorter;
workflow-resume joins the two. Find the PR (remembered in the state after the first
time, else one read by the pushed branch), remove ``ready-for-qa`` (a 404 means already
gone) and add ``remediation-in-progress`` — one label per write, never a PUT of a set
computed from a stale read, since GitHub has no compare-and-swap for labels. At most one
read and two writes per remediation; none for a duplicate (the ledger replays) or a
retry after the writes were recorded.

A push the task's state already shows superseded (by :mod:`remedy.domain.push_order`,
the rule agent-cancel admits by: a duplicate, replaced, older than the task's epoch)
writes nothing. The GitHub calls are made without the task's lock; only the record of
them in the task's state is written under it (briefly: a read and a compare-and-swap).
The label writes are the same whichever epoch makes them and commute with the
cancellation steps', so concurrent label-updates of one task can only repeat each other.
A LabelsReset Event on the task's state ConfigMap (a PR is no Kubernetes object) tells
what was written, by an attempt that wrote something.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import push_order
from remedy.domain.agents import format_time
from remedy.domain.audit import Reason
from remedy.domain.branches import BRANCH_PREFIX
from remedy.domain.remediation import Head, RemediationState
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.models import LabelsUpdated, RemediationRequested
from remedy.handlers.common.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.common.results import Outcome
from remedy.handlers.common.tasks import TaskSteps
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
        if event["type"] != catalogue.REMEDIATION_REQUESTED:
            raise Rejected(f"label-update does not take {event['type']} events")
        request = RemediationRequested.model_validate(event.get_data())
        traceparent = tracing.child(
            event.get_attributes().get("traceparent"), delivery_id=request.correlation_id
        )
        return run_once(
            self._idempotency,
            event,
            consumer=PRODUCER,
            fingerprint=fingerprint_of(request.model_dump(mode="json")),
            work=lambda steps: self._update(request, traceparent, steps),
        )

    def _update(
        self, request: RemediationRequested, traceparent: str, steps: Steps
    ) -> dict[str, Any]:
        now = self._tasks.clock()
        epoch, delivery, task_id = request.epoch, request.correlation_id, request.task_id
        state, _ = self._tasks.states.load(task_id)
        stale = _superseded(state, request)
        if stale:
            return ack(f"{stale}; labels left to the newest push")
        # Done before and the ledger lost its record of it (a failover)? The task's
        # state in Kubernetes is the backstop: reply again, write nothing again.
        done = state is not None and state.labels_epoch >= epoch
        reset = _Reset() if done else self._reset(state, request, steps)

        with self._tasks.open(task_id, request.repository) as task:
            current = task.state
            if reset.wrote:
                task.audit(
                    Reason.LABELS_RESET,
                    None,
                    what=reset.note,
                    epoch=epoch,
                    head=request.after_sha,
                    requested_by=request.pusher,
                    why=f"remediation push {request.after_sha[:12]} to {request.branch}",
                )
            stale = _superseded(current, request)  # a newer push came meanwhile
            if stale:
                return ack(f"{stale}; labels left to the newest push")
            if not done:
                current.pr_number = reset.number or current.pr_number
                current.labels_note = reset.note
            current.labels_epoch = max(current.labels_epoch, epoch)
            current.log(
                at=now, epoch=epoch, delivery=delivery, step=PRODUCER, outcome=current.labels_note
            )
            task.save()
            pr_number = current.pr_number
        data = LabelsUpdated(
            task_id=task_id,
            repository=request.repository,
            pr_number=pr_number,
            head_sha=request.head_sha,
            correlation_id=delivery,
            epoch=epoch,
            removed=tuple(reset.removed),
            added=self._labels.add if pr_number else (),
            github_requests=reset.requests,
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
        self, state: RemediationState | None, request: RemediationRequested, steps: Steps
    ) -> _Reset:
        """Find the PR (remembered after the first time), remove, add; each write once."""
        repository = request.repository
        reset = _Reset(number=state.pr_number if state else None)
        found = steps.get("pr")
        if reset.number is None and found is not None:
            reset.number = found.get("number")
        if reset.number is None and found is None:
            reset.number = self._prs.find_open(
                repository, branch=request.branch, task_id=request.task_id
            )
            reset.requests += 1
            steps.record("pr", {"number": reset.number})
        number = reset.number
        if number is None:
            reset.note = f"no open pull request for branch {request.branch!r}"
            return reset
        for index, label in enumerate(self._labels.remove):
            removal = steps.get(f"removed-{index}")
            if removal is None:
                removal = {"removed": self._prs.remove_label(repository, number, label)}
                reset.requests += 1
                reset.wrote = True
                steps.record(f"removed-{index}", removal)
            if removal["removed"]:
                reset.removed.append(label)
        if self._labels.add and steps.get("added") is None:
            self._prs.add_labels(repository, number, self._labels.add)
            reset.requests += 1
            reset.wrote = True
            steps.record("added", {"labels": list(self._labels.add)})
        reset.note = f"PR #{number}: -{reset.removed or '[]'} +{list(self._labels.add)}"
        return reset


def _superseded(state: RemediationState | None, request: RemediationRequested) -> str | None:
    """Why the task's state already shows ``request``'s push superseded, if it does."""
    if state is None:
        return None
    head = Head(
        sha=request.after_sha,
        before=request.before_sha,
        epoch=request.epoch,
        delivery=request.delivery_id,
        pushed_at=format_time(request.pushed_at),
        ref=BRANCH_PREFIX + request.branch,
    )
    verdict = push_order.judge(head.push, state.pushes, floor=state.epoch)
    if isinstance(verdict, push_order.Newest):
        return None
    return push_order.describe(verdict, head.push)


@dataclass
class _Reset:
    """What resetting the labels did: the PR, the GitHub requests it took, a note."""

    number: int | None = None
    requests: int = 0
    removed: list[str] = field(default_factory=list)
    note: str = ""
    wrote: bool = False
    """This attempt wrote labels (a retry after the writes were recorded did not)."""
