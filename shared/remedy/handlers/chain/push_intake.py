"""push-intake's core: turn a remediation push into "remediation requested", once per push.

A push is what GitHub pushed (repository, ref, before → after), not the delivery that
carried it: every webhook that sees a repository (webhook-gateway, a GitHubSource, a
repository hook and an organisation hook) gets its own X-GitHub-Delivery id for the same
push, and only a redelivery keeps the id. So duplicates are absorbed twice over:

- per delivery, by the idempotency ledger keyed by the event's (source, id): a retried
  or redelivered event gets its recorded outcome back, and a crash resumes after the
  last recorded step;
- per push, by the task's push log (:mod:`remedy.domain.push_order`, stored by quorum
  on the Redis masters): the first delivery of a push is admitted with the task's next
  epoch, and every other delivery of it — another id, another source, GitHubSource's
  re-serialised form, days later — gets the first delivery's reply *replayed*: the same
  event id, the same epoch, so every later step dedupes it as the same event and it
  costs no GitHub request and no Kubernetes write.

The push log is written before the delivery's ledger records the admission, so a crash
between the two finds the push in the log on the retry: one push, one epoch. A push the
log shows replaced (its head is a known push's ``before``) or older than the task's
newest push changes nothing and is acknowledged with that reason.

For the metrics (the :class:`~remedy.ports.Tally` port) each push taken in counts once:
a remediation requested (admitted with a new epoch), or a remediation ``duplicate``
(another delivery of an admitted push), ``superseded`` (replaced or older) or
``failed`` (an epoch collision, or the task's epochs exhausted).
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent

from remedy.domain import push_order
from remedy.domain.branches import BRANCH_PREFIX
from remedy.domain.identifiers import validate_delivery_id, validate_sha
from remedy.domain.push_order import Admission, Candidate, PushLog, PushRecord
from remedy.domain.pushes import Ignored, PushPolicy, RemediationPush, classify
from remedy.events import catalogue, tracing
from remedy.events.codec import event_id, task_event
from remedy.events.github import push_facts
from remedy.events.models import RemediationRequested
from remedy.handlers.common.once import ack, fingerprint_of, reply, run_once
from remedy.handlers.common.results import Ack, Outcome
from remedy.handlers.common.tally import NO_TALLY
from remedy.ports import Clock, Idempotency, PushLogs, Rejected, Steps, Tally, utcnow

log = logging.getLogger("remedy.push_intake")

PRODUCER = "push-intake"
STEP = "remediation.requested"


def log_name(push: RemediationPush) -> str:
    return f"task:{push.task.key}"


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
        pushes: PushLogs,
        clock: Clock = utcnow,
        tally: Tally = NO_TALLY,
    ) -> None:
        self._policy = policy
        self._idempotency = idempotency
        self._pushes = pushes
        self._clock = clock
        self._tally = tally

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
            work=lambda steps: self._request(decision, delivery, traceparent, steps),
        )

    def _request(
        self, push: RemediationPush, delivery: str, traceparent: str, steps: Steps
    ) -> dict[str, Any]:
        recorded = steps.get("push")
        if recorded is None:
            candidate = Candidate(
                ref=BRANCH_PREFIX + push.branch,
                before=push.before,
                after=push.after,
                delivery=delivery,
                pushed_at=push.pushed_at or self._clock(),
                pusher=push.pusher,
                forced=push.forced,
            )
            admission = self._update(push, candidate)
            self._count(admission, delivery)
            if admission.record is None:
                log.info("task %s: %s", push.task.key, admission.reason)
                return ack(admission.reason)
            if admission.record.delivery != delivery:
                log.info(
                    "task %s: delivery %s %s; replaying delivery %s's reply",
                    push.task.key,
                    delivery,
                    admission.reason,
                    admission.record.delivery,
                )
            steps.record("push", asdict(admission.record))
            first = admission.record
        else:
            first = PushRecord(**recorded)
        return reply(_requested(push, first, traceparent))

    def _update(self, push: RemediationPush, candidate: Candidate) -> Admission:
        try:
            return self._pushes.update(log_name(push), lambda known: _admit(known, candidate))
        except Rejected:
            self._tally.remediation("failed")  # the task's epochs are exhausted
            raise

    def _count(self, admission: Admission, delivery: str) -> None:
        """What taking in the push decided, for the metrics."""
        match admission.verdict:
            case push_order.Newest():
                self._tally.remediation_requested()
            case push_order.Duplicate() if (
                admission.record and admission.record.delivery != delivery
            ):
                self._tally.remediation("duplicate")
            case push_order.Duplicate():
                pass  # this very delivery, admitted before its ledger entry recorded it
            case push_order.Collision():
                self._tally.remediation("failed")
            case _:
                self._tally.remediation("superseded")


def _admit(known: PushLog, candidate: Candidate) -> tuple[Admission, PushLog | None]:
    try:
        admission = push_order.admit(known, candidate)
    except push_order.EpochsExhausted as exc:
        raise Rejected(str(exc)) from exc
    return admission, admission.log


def _requested(push: RemediationPush, first: PushRecord, traceparent: str) -> CloudEvent:
    """The reply for ``push``: built from its first delivery, so every delivery's is identical."""
    data = RemediationRequested(
        task_id=push.task.task_id,
        repository=push.task.repository.full_name,
        head_sha=first.after,
        correlation_id=first.delivery,
        epoch=first.epoch,
        branch=first.ref.removeprefix(BRANCH_PREFIX),
        before_sha=first.before,
        after_sha=first.after,
        pusher=first.pusher,
        delivery_id=first.delivery,
        forced=first.forced,
        pushed_at=datetime.fromisoformat(first.pushed_at),
    )
    return task_event(
        data, producer=PRODUCER, event_id=event_id(first.delivery, STEP), traceparent=traceparent
    )
