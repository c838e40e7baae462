"""The reconciler: the safety net that repairs tasks whose event chain broke.

Driven by a PingSource (every few seconds locally) and by the Broker's dead-letter
sink. Each tick looks at every task with a remediation state and, only where there is
something to do (judged on a lock-free read first, so the pipeline's own steps do not
queue behind it), takes the task's lock and:

1. confirms cancelled agents gone, and force-deletes the ones whose grace expired
   without an acknowledgement (:mod:`remedy.handlers.reconciler.cancellations`);
   when that stops the last one of the current epoch, ``agents.stopped`` is sent at
   once, so the resume follows promptly;
2. applies kept resumes (a remediation's, and stage events that came early) once the
   workflow got there (:mod:`remedy.handlers.reconciler.resumes`);
3. re-drives a saga stuck past ``REMEDY_SAGA_DEADLINE_SECONDS`` from its recovery point
   (:mod:`remedy.handlers.reconciler.sagas`).

Events go out through the sink after the lock is released. Crashed holders need no
sweeping: Redlock keys expire with their TTL, and a ledger claim whose lease ran out is
taken over (RESUMEd) by the next delivery of its event — which the stuck-saga pass
provides when the broker no longer will; the report counts the expired claims it met.

Safe to run concurrently with itself and with the steps: all work on a task happens
under its lock (a busy lock means someone else is on it: the task is skipped this tick
rather than waited for), state writes are compare-and-swap, deletions carry a uid
precondition, and every event it sends has a deterministic id its consumer dedupes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from cloudevents.http import CloudEvent

from remedy.domain.remediation import Head, RemediationState
from remedy.handlers.common.stopping import stopped_event
from remedy.handlers.common.tasks import TaskStep, TaskSteps
from remedy.handlers.reconciler import cancellations, sagas
from remedy.handlers.reconciler.dead_letters import DeadLetter, Recorded, record
from remedy.handlers.reconciler.resumes import KeptResumes
from remedy.ports import (
    AgentRuns,
    Clock,
    EventSink,
    LedgerRecords,
    RemediationStates,
    RetryLater,
    SinkError,
)

log = logging.getLogger("remedy.reconciler")

PRODUCER = "reconciler"


class SettingsError(ValueError):
    """A REMEDY_* variable of the reconciler is malformed; the message names it."""


@dataclass(frozen=True)
class ReconcileSettings:
    force_grace_s: int = 10
    """gracePeriodSeconds of a forced deletion: SIGTERM, then SIGKILL after this."""
    saga_deadline_s: float = 60.0
    """A saga with no recorded progress for this long is re-driven."""
    max_redrives: int = 5
    """Re-drives per epoch before the reconciler leaves it to a person."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReconcileSettings:
        return cls(
            force_grace_s=int(_number(env, "REMEDY_FORCE_GRACE_SECONDS", 10, integer=True)),
            saga_deadline_s=_number(env, "REMEDY_SAGA_DEADLINE_SECONDS", 60),
            max_redrives=int(_number(env, "REMEDY_MAX_REDRIVES", 5, integer=True)),
        )


def _number(
    env: Mapping[str, str] | None, name: str, default: float, *, integer: bool = False
) -> float:
    raw = (env if env is not None else os.environ).get(name, "").strip() or str(default)
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{name}={raw!r} is not {kind}") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must be at least 0")
    return value


@dataclass
class TaskReport:
    """What one tick did for one task (run keys are ``namespace/name``)."""

    task_id: int
    skipped: str = ""
    gone: list[str] = field(default_factory=list)
    forced: list[str] = field(default_factory=list)
    force_pending: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    resume: str = ""
    redrive: str = ""
    expired_claims: int = 0
    sent: list[str] = field(default_factory=list)
    """``type id`` of every event sent."""
    error: str = ""


@dataclass
class TickReport:
    tasks: list[TaskReport] = field(default_factory=list)

    def task(self, task_id: int) -> TaskReport | None:
        return next((t for t in self.tasks if t.task_id == task_id), None)

    @property
    def sent(self) -> list[str]:
        return [s for t in self.tasks for s in t.sent]

    def summary(self) -> str:
        acted = [t for t in self.tasks if not t.skipped or t.error]
        parts = [
            f"{len(self.tasks)} task(s) looked at, {len(acted)} acted on",
            f"{sum(len(t.forced) for t in self.tasks)} forced",
            f"{sum(len(t.gone) for t in self.tasks)} confirmed gone",
            f"{len(self.sent)} event(s) sent",
            f"{sum(t.expired_claims for t in self.tasks)} expired ledger claim(s)",
        ]
        errors = [t for t in self.tasks if t.error]
        if errors:
            parts.append(f"{len(errors)} error(s)")
        return ", ".join(parts)


class Reconciler:
    def __init__(
        self,
        *,
        runs: AgentRuns,
        states: RemediationStates,
        tasks: TaskSteps,
        resumes: KeptResumes,
        ledger: LedgerRecords,
        sink: EventSink,
        clock: Clock,
        settings: ReconcileSettings,
    ) -> None:
        self._runs = runs
        self._states = states
        self._tasks = tasks
        self._resumes = resumes
        self._ledger = ledger
        self._sink = sink
        self._clock = clock
        self._settings = settings

    # -- the tick -------------------------------------------------------------------

    def tick(self) -> TickReport:
        """One pass over every task; a failing task is reported, never stops the others."""
        report = TickReport()
        for task_id in self._states.task_ids():
            task_report = TaskReport(task_id)
            report.tasks.append(task_report)
            try:
                self._reconcile(task_id, task_report)
            except RetryLater as exc:
                task_report.skipped = f"busy or unavailable: {exc}"
            except Exception as exc:
                log.exception("task %s: reconciling failed", task_id)
                task_report.error = f"{type(exc).__name__}: {exc}"[:300]
        # an idle tick every few seconds is not news; one that acted is
        busy = any(not t.skipped or t.error for t in report.tasks)
        log.log(logging.INFO if busy else logging.DEBUG, "tick: %s", report.summary())
        return report

    def _reconcile(self, task_id: int, report: TaskReport) -> None:
        now = self._clock()
        state, _ = self._states.load(task_id)
        if state is None or not self._needs_attention(state, now):
            report.skipped = "nothing to do"
            return
        outgoing: list[CloudEvent] = []
        with self._tasks.open(task_id, state.repository) as task:
            before = task.state.model_dump_json()
            self._cancellations(task, now, report, outgoing)
            self._kept_resumes(task, now, report, outgoing)
            if not outgoing:
                self._stuck_saga(task, now, report, outgoing)
            if task.state.model_dump_json() != before:
                task.save()
        for event in outgoing:
            self._send(event, report)

    def _needs_attention(self, state: RemediationState, now: datetime) -> bool:
        """A lock-free first look: is there anything this tick could do for the task?"""
        if cancellations.needs_settling(state, self._runs, now=now):
            return True
        if self._resumes.ready(state):
            return True
        head = sagas.stuck(state, now=now, deadline_s=self._settings.saga_deadline_s)
        return head is not None and not sagas.gave_up(state, head.epoch)

    def _cancellations(
        self, task: TaskStep, now: datetime, report: TaskReport, outgoing: list[CloudEvent]
    ) -> None:
        if not cancellations.pending(task.state):
            return
        settled = cancellations.settle(
            task, self._runs, now=now, force_grace_s=self._settings.force_grace_s
        )
        report.gone += settled.gone
        report.forced += settled.forced
        report.force_pending += settled.force_pending
        report.waiting += settled.waiting
        epoch = task.state.epoch
        if epoch in settled.stopped_epochs:
            event = self._stopped(task, epoch)
            if event is not None:
                outgoing.append(event)

    def _stopped(self, task: TaskStep, epoch: int) -> CloudEvent | None:
        return stopped_event(
            task, epoch, producer=PRODUCER, forced=cancellations.forced_any(task, epoch)
        )

    def _kept_resumes(
        self, task: TaskStep, now: datetime, report: TaskReport, outgoing: list[CloudEvent]
    ) -> None:
        state = task.state
        if state.kept_resume is None and not state.kept_stage_resumes:
            return
        applied = self._resumes.apply(task, now=now)
        report.resume = "; ".join(applied.notes) or "kept: the workflow is not there yet"
        outgoing += applied.events

    # -- stuck sagas ------------------------------------------------------------------

    def _stuck_saga(
        self, task: TaskStep, now: datetime, report: TaskReport, outgoing: list[CloudEvent]
    ) -> None:
        state = task.state
        head = sagas.stuck(state, now=now, deadline_s=self._settings.saga_deadline_s)
        if head is None or sagas.gave_up(state, head.epoch):
            return
        if sagas.redrives(state, head.epoch) >= self._settings.max_redrives:
            self._give_up(task, head, now, report, f"after {self._settings.max_redrives} attempts")
            return
        found = sagas.walk(self._ledger, sagas.chain(state.repository, head.delivery))
        report.expired_claims += found.expired_claims
        events, note, hopeless = list(found.events), found.note, found.hopeless
        if not events and found.completed:
            again, note, hopeless = self._announce_again(task, head.epoch, head.delivery, note)
            events = [again] if again is not None else []
        report.redrive = note
        if not events:
            if hopeless:
                self._give_up(task, head, now, report, f"with nothing left to send ({note})")
            return
        state.log(
            at=now,
            epoch=head.epoch,
            delivery=head.delivery,
            step=PRODUCER,
            outcome=f"{sagas.REDRIVE}{note}",
        )
        log.warning("task %s epoch %s stuck: %s", state.task_id, head.epoch, note)
        outgoing.extend(events)

    def _give_up(
        self, task: TaskStep, head: Head, now: datetime, report: TaskReport, why: str
    ) -> None:
        state = task.state
        note = f"{sagas.GAVE_UP} {why}; the remediation needs a person (see the logs)"
        state.log(at=now, epoch=head.epoch, delivery=head.delivery, step=PRODUCER, outcome=note)
        log.warning("task %s epoch %s: %s", state.task_id, head.epoch, note)
        task.tally.remediation("failed")
        report.redrive = note

    def _announce_again(
        self, task: TaskStep, epoch: int, delivery: str, note: str
    ) -> tuple[CloudEvent | None, str, bool]:
        """workflow-resume only acknowledged; once every agent stopped, tell it again.

        Returns the event to send (if any), what was decided, and whether it is hopeless.
        """
        cancelled = task.state.cancellations_for(epoch)
        waiting = [c for c in cancelled if not c.stopped]
        if waiting:
            return None, f"{note}; waiting for {len(waiting)} agent(s) to stop", False
        event = self._stopped(task, epoch) if cancelled else None
        if event is None:
            return None, note, True
        taken = sagas.taken(self._ledger, sagas.stopped_link(str(event["id"])))
        if taken == "working":
            return None, f"{note}; workflow-resume is on agents.stopped", False
        if taken == "done":
            return None, f"{note}; workflow-resume already took agents.stopped", True
        return event, f"re-sent agents.stopped {event['id']} to workflow-resume", False

    # -- sending and dead letters -----------------------------------------------------

    def _send(self, event: CloudEvent, report: TaskReport) -> None:
        try:
            self._sink.send(event)
        except SinkError as exc:
            # the next deadline's re-drive sends it again; the state already says why
            log.warning("task %s: could not send %s: %s", report.task_id, event["id"], exc)
            report.error = f"sending {event['type']} failed: {exc}"[:300]
            return
        report.sent.append(f"{event['type']} {event['id']}")

    def dead_letter(self, event: CloudEvent) -> Recorded:
        """Record a dead-lettered event with its reason (see reconcile_dead_letters)."""
        return record(self._tasks, DeadLetter.of(event), now=self._clock())
