"""push-intake's core: turn a remediation push into "remediation requested".

Where duplicates are absorbed: here, and at every later step, by the idempotency
ledger. push-intake keys its work by the push event's (source, id) — the id is GitHub's
X-GitHub-Delivery, identical for a redelivery and for the same delivery arriving from
both webhook-gateway and GitHubSource. The first delivery allocates the task's next
epoch and records the reply; every duplicate (sequential or concurrent) gets the
*identical* reply event back — same id, same epoch — instead of a new one. Replaying
rather than swallowing matters: if the broker lost the first reply, the retry recovers
it. Downstream steps key their own work by (delivery id, step), so an identical event
arriving twice never has a second effect.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from cloudevents.http import CloudEvent

from remedy.domain.identifiers import validate_delivery_id, validate_sha
from remedy.domain.pushes import Ignored, PushPolicy, RemediationPush, classify
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.github import push_facts
from remedy.events.models import RemediationRequested
from remedy.handlers.once import fingerprint_of, reply, run_once
from remedy.handlers.results import Ack, Outcome
from remedy.ports import Clock, Epochs, Idempotency, Rejected, Steps, utcnow

PRODUCER = "push-intake"
STEP = "remediation.requested"


def epoch_name(push: RemediationPush) -> str:
    return f"task:{push.task.key}"


SEQUENCE = 1000


def push_epoch(pushed_at: datetime, sequence: int) -> int:
    """The task's epoch for a push: ordered as GitHub ordered the pushes, not as they
    arrived.

    Deliveries come in any order, and a late push must never supersede a newer one, so
    the epoch leads with the push time GitHub reports (``repository.pushed_at``, whole
    seconds; the intake time when absent); within one second the task's quorum counter
    (unique across callers) makes it unique, and orders by arrival on a best-effort basis
    only (the counter may jump when a Redis master restarts). Pushes within one second
    are almost always linked before → after, which orders them exactly (agent-cancel).
    Fencing by epoch at every resource then follows the branch's real history.
    """
    return int(pushed_at.timestamp()) * SEQUENCE + sequence % SEQUENCE


def fingerprint(push: RemediationPush) -> str:
    """What makes two deliveries the same push, whichever source sent them.

    ``pushed_at`` is left out: GitHubSource re-serialises it in another format.
    """
    facts = asdict(push)
    facts["task"] = push.task.key
    facts.pop("pushed_at")
    return fingerprint_of(facts)


class PushIntake:
    def __init__(
        self,
        *,
        policy: PushPolicy,
        idempotency: Idempotency,
        epochs: Epochs,
        clock: Clock = utcnow,
    ) -> None:
        self._policy = policy
        self._idempotency = idempotency
        self._epochs = epochs
        self._clock = clock

    def handle(self, event: CloudEvent) -> Outcome:
        if event["type"] != catalogue.PUSH:
            raise Rejected(f"push-intake takes {catalogue.PUSH} events, not {event['type']}")
        decision = classify(push_facts(event), self._policy)
        if isinstance(decision, Ignored):
            return Ack(decision.reason)
        delivery = validate_delivery_id(str(event["id"]))
        validate_sha(decision.before)
        validate_sha(decision.after)
        traceparent = tracing.child(event.get_attributes().get("traceparent"), delivery_id=delivery)

        return run_once(
            self._idempotency,
            event,
            consumer=PRODUCER,
            fingerprint=fingerprint(decision),
            work=lambda steps: reply(self._request(decision, delivery, traceparent, steps)),
        )

    def _request(
        self, push: RemediationPush, delivery: str, traceparent: str, steps: Steps
    ) -> CloudEvent:
        recorded = steps.get("epoch")
        if recorded is None:
            pushed_at = push.pushed_at or self._clock()
            epoch = push_epoch(pushed_at, self._epochs.next(epoch_name(push)))
            steps.record("epoch", {"epoch": epoch, "pushed_at": pushed_at.isoformat()})
        else:
            epoch = int(recorded["epoch"])
            pushed_at = datetime.fromisoformat(str(recorded["pushed_at"]))
        data = RemediationRequested(
            task_id=push.task.task_id,
            repository=push.task.repository.full_name,
            head_sha=push.after,
            correlation_id=delivery,
            epoch=epoch,
            branch=push.branch,
            before_sha=push.before,
            after_sha=push.after,
            pusher=push.pusher,
            delivery_id=delivery,
            forced=push.forced,
            pushed_at=pushed_at,
        )
        return task_event(
            data, producer=PRODUCER, event_id=event_id(delivery, STEP), traceparent=traceparent
        )
