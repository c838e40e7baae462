"""Dead letters: events the Broker gave up on, recorded with the reason they failed.

The Broker sends an event that exhausted its retries (or got a 4xx that is never
retried) to its dead-letter sink, the reconciler's ``/dead-letter``, with three
extensions: ``knativeerrordest`` (the subscriber), ``knativeerrorcode`` (its last
status) and ``knativeerrordata`` (its last response body, base64, cut to 1024
characters). The reason a person needs is in that body — remedy's functions answer
``{"error": ..., "message": ...}`` — so it is decoded, reduced to the message and
bounded. The letter is always logged at WARNING first (the log is the record of last
resort), then, when the event names a task (``taskid`` extension and a repository in its
data or ``subject``), recorded in that task's remediation-state history, once.

Nothing is re-sent from here: a dead letter is a permanent failure or one that already
outlived ten retries, and the stuck-saga pass re-drives a task's chain on its own terms.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cloudevents.http import CloudEvent

from remedy import untrusted_json
from remedy.domain.identifiers import InvalidIdentifier, Repository, validate_task_id
from remedy.handlers.common.tasks import TaskSteps

log = logging.getLogger("remedy.reconciler")

STEP = "dead-letter"
MAX_REASON = 300
_SUBJECT = re.compile(r"^(?P<repository>[^/\s]+/[^/\s]+)/tasks/\d+$")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class DeadLetter:
    type: str
    source: str
    id: str
    destination: str
    code: str
    reason: str
    task_id: int | None
    repository: str | None
    epoch: int
    correlation: str

    @classmethod
    def of(cls, event: CloudEvent) -> DeadLetter:
        attributes = event.get_attributes()
        task_id, repository = _task_of(attributes, event.get_data())
        return cls(
            type=str(attributes.get("type", "")),
            source=str(attributes.get("source", "")),
            id=str(attributes.get("id", "")),
            destination=str(attributes.get("knativeerrordest", "(unknown subscriber)"))[:200],
            code=str(attributes.get("knativeerrorcode", "?"))[:10],
            reason=reason_of(attributes.get("knativeerrordata")),
            task_id=task_id,
            repository=repository,
            epoch=_int(attributes.get("epoch")),
            correlation=str(attributes.get("correlationid") or attributes.get("id", ""))[:128],
        )

    def describe(self) -> str:
        return (
            f"{self.type} {self.id[:128]} from {self.source[:120]} failed at "
            f"{self.destination} with {self.code}: {self.reason}"
        )


@dataclass(frozen=True)
class Recorded:
    letter: DeadLetter
    recorded: bool
    note: str


def reason_of(data: object) -> str:
    """The readable reason inside ``knativeerrordata`` (base64 of the response body)."""
    if not data:
        return "no reason given"
    text = str(data)
    # Knative cuts the base64 at 1024 characters, so padding may be missing; text that
    # is not base64 at all is shown as it came
    with contextlib.suppress(binascii.Error, ValueError):
        cut = text[: len(text) - len(text) % 4]
        text = base64.b64decode(cut, validate=True).decode("utf-8", "replace")
    try:
        body = untrusted_json.loads(text)
    except untrusted_json.NotJson:
        body = None
    if isinstance(body, dict) and body.get("message"):
        text = f"{body.get('error', 'error')}: {body['message']}"
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def record(tasks: TaskSteps, letter: DeadLetter, *, now: datetime) -> Recorded:
    """Log ``letter``, then add it to its task's history (at most once per letter)."""
    log.warning("dead letter: %s", letter.describe())
    if letter.task_id is None or letter.repository is None:
        return Recorded(letter, False, "names no task: logged only")
    outcome = letter.describe()
    with tasks.open(letter.task_id, letter.repository) as task:
        state = task.state
        seen = any(
            e.step == STEP and e.delivery == letter.correlation and e.outcome == outcome
            for e in state.history
        )
        if seen:
            return Recorded(letter, True, "already recorded")
        state.log(
            at=now, epoch=letter.epoch, delivery=letter.correlation, step=STEP, outcome=outcome
        )
        task.save()
    return Recorded(letter, True, f"recorded in task {letter.task_id}'s history")


def _task_of(attributes: Mapping[str, Any], data: object) -> tuple[int | None, str | None]:
    try:
        task_id = validate_task_id(int(str(attributes.get("taskid", ""))))
    except (ValueError, InvalidIdentifier):
        return None, None
    candidates = []
    if isinstance(data, dict) and isinstance(data.get("repository"), str):
        candidates.append(data["repository"])
    match = _SUBJECT.match(str(attributes.get("subject") or ""))
    if match:
        candidates.append(match.group("repository"))
    for candidate in candidates:
        try:
            return task_id, Repository.parse(candidate).full_name
        except InvalidIdentifier:
            continue
    return None, None


def _int(value: object) -> int:
    try:
        return max(0, int(str(value)))
    except ValueError:
        return 0
