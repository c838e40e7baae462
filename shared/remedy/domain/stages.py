"""The play workflow's stages and which moves between them are allowed.

The play workflow records its stage in the ``current-stage`` label and moves forward
as its template makes it (``pending → waiting-pr-created → waiting-ready-for-qa →
waiting-pr-approved → waiting-pr-merged → completed``). remedy adds exactly one other
kind of move: the remediation reset, from any unfinished stage back to
``waiting-pr-created``. Everything else is refused with a reason.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from enum import StrEnum


class Stage(StrEnum):
    PENDING = "pending"
    WAITING_PR_CREATED = "waiting-pr-created"
    WAITING_READY_FOR_QA = "waiting-ready-for-qa"
    WAITING_PR_APPROVED = "waiting-pr-approved"
    WAITING_PR_MERGED = "waiting-pr-merged"
    COMPLETED = "completed"

    @classmethod
    def parse(cls, value: str | None) -> Stage:
        """A missing label means the workflow has not recorded a stage yet: pending."""
        if not value:
            return cls.PENDING
        try:
            return cls(value)
        except ValueError:
            raise UnknownStage(f"{value!r} is not a play workflow stage") from None


class UnknownStage(ValueError):
    pass


ORDER = tuple(Stage)
FORWARD: frozenset[tuple[Stage, Stage]] = frozenset(itertools.pairwise(ORDER))
REMEDIATION_TARGET = Stage.WAITING_PR_CREATED


@dataclass(frozen=True)
class Transition:
    source: Stage
    target: Stage
    allowed: bool
    reason: str


def transition(source: Stage, target: Stage, *, remediation: bool = False) -> Transition:
    if source is Stage.COMPLETED:
        return Transition(source, target, False, "the workflow is completed")
    if remediation:
        if target is not REMEDIATION_TARGET:
            return Transition(
                source, target, False, f"a remediation resets to {REMEDIATION_TARGET}"
            )
        return Transition(source, target, True, f"remediation reset from {source}")
    if (source, target) in FORWARD:
        return Transition(source, target, True, f"forward move {source} → {target}")
    if ORDER.index(target) <= ORDER.index(source):
        return Transition(source, target, False, f"{target} is not ahead of {source}")
    return Transition(source, target, False, f"{source} → {target} skips a stage")


def reached(current: Stage, wanted: Stage) -> bool:
    """Whether a workflow at ``current`` has already passed or reached ``wanted``."""
    return ORDER.index(current) >= ORDER.index(wanted)
