"""How a simulated agent answers a cancellation request — deliberately pluggable.

The request is remedy's ``remedy.dev/cancel-requested-at`` annotation (see
``remedy.domain.agents``). The full request/acknowledge contract belongs to the
remediation chain and may still change, so the two decisions are separate seams:

- a :class:`CancellationBehaviour` says whether and after how long the agent reacts
  (:class:`FromAnnotations` by default: ``remedy.dev/simulate-cancel`` and
  ``-ack-seconds``; :class:`AcknowledgeAfter` and :class:`IgnoreCancellation` fix it,
  ignoring being how tests exercise forced cancellation);
- an ``Acknowledge`` callable performs the acknowledgement. The default,
  :class:`AnnotateAndStop`, records ``remedy.dev/cancel-acknowledged-at`` on the
  CodeRun (what control-api records for a real agent) and sets the phase to
  ``Cancelled``. When the contract lands, pass a different callable (for instance one
  that calls control-api) to :class:`~remedy.emulators.agents.simulator.AgentSimulator`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from kubernetes import client

from remedy.domain import agents
from remedy.emulators.agents.schedule import Plan

CODERUN = ("agents.platform", "v1", "coderuns")
Acknowledge = Callable[[dict[str, Any]], None]


class CancellationBehaviour(Protocol):
    def acknowledge_after(self, coderun: Mapping[str, Any], plan: Plan) -> float | None:
        """Seconds after the request to acknowledge it, or None to ignore it."""
        ...


class FromAnnotations:
    """Per-run choice: ``remedy.dev/simulate-cancel`` and ``-ack-seconds``."""

    def acknowledge_after(self, coderun: Mapping[str, Any], plan: Plan) -> float | None:
        return plan.ack_seconds if plan.cancel == "acknowledge" else None


@dataclass(frozen=True)
class AcknowledgeAfter:
    seconds: float

    def acknowledge_after(self, coderun: Mapping[str, Any], plan: Plan) -> float | None:
        return self.seconds


class IgnoreCancellation:
    def acknowledge_after(self, coderun: Mapping[str, Any], plan: Plan) -> float | None:
        return None


def _now() -> str:
    return agents.format_time(datetime.now(UTC))


class AnnotateAndStop:
    """Default acknowledgement: annotate ``cancel-acknowledged-at``, phase Cancelled."""

    def __init__(self, api_client: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api_client)

    def __call__(self, coderun: dict[str, Any]) -> None:
        metadata = coderun["metadata"]
        namespace, name = metadata["namespace"], metadata["name"]
        stamp = _now()
        self._custom.patch_namespaced_custom_object(
            *CODERUN[:2],
            namespace,
            CODERUN[2],
            name,
            {"metadata": {"annotations": {agents.CANCEL_ACKNOWLEDGED_AT: stamp}}},
        )
        self._custom.patch_namespaced_custom_object_status(
            *CODERUN[:2],
            namespace,
            CODERUN[2],
            name,
            {
                "status": {
                    "phase": "Cancelled",
                    "message": "cancelled on request (simulated agent)",
                    "lastUpdate": stamp,
                    "finishedAt": stamp,
                    "conditions": [
                        {
                            "type": "Cancelled",
                            "status": "True",
                            "reason": "CancelRequested",
                            "message": "the simulated agent stopped when asked to",
                            "lastTransitionTime": stamp,
                        }
                    ],
                }
            },
        )
