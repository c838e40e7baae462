"""The agent simulator: CodeRuns marked ``remedy.dev/simulate: "true"`` behave like agents.

Marked runs move Pending → Running → Succeeded (or Failed) on a schedule set by
annotations or defaults; a run asked to cancel (``remedy.dev/cancel-requested-at``)
acknowledges after a delay (through control-api when given its URL) and stops, or
ignores the request. ``schedule`` decides the next step from the object alone,
``cancellation`` holds the replaceable cancellation seams, ``simulator`` watches and
acts, ``__main__`` runs it standalone.
"""

from remedy.local.emulators.agents.cancellation import (
    AckFailed,
    AcknowledgeAfter,
    AnnotateAndStop,
    CancellationBehaviour,
    ControlApiAcknowledge,
    FromAnnotations,
    IgnoreCancellation,
    agent_tokens,
)
from remedy.local.emulators.agents.schedule import SELECTOR, SIMULATE_LABEL, Plan
from remedy.local.emulators.agents.simulator import AgentSimulator

__all__ = [
    "SELECTOR",
    "SIMULATE_LABEL",
    "AckFailed",
    "AcknowledgeAfter",
    "AgentSimulator",
    "AnnotateAndStop",
    "CancellationBehaviour",
    "ControlApiAcknowledge",
    "FromAnnotations",
    "IgnoreCancellation",
    "Plan",
    "agent_tokens",
]
