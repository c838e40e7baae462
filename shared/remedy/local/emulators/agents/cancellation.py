"""How a simulated agent answers a cancellation request — deliberately pluggable.

The request is remedy's ``remedy.dev/cancel-requested-at`` annotation (see
``remedy.domain.agents``). The full request/acknowledge contract belongs to the
remediation chain and may still change, so the two decisions are separate seams:

- a :class:`CancellationBehaviour` says whether and after how long the agent reacts
  (:class:`FromAnnotations` by default: ``remedy.dev/simulate-cancel`` and
  ``-ack-seconds``; :class:`AcknowledgeAfter` and :class:`IgnoreCancellation` fix it,
  ignoring being how tests exercise forced cancellation);
- an ``Acknowledge`` callable performs the acknowledgement. With a control-api URL the
  simulator uses :class:`ControlApiAcknowledge`, which does what a real agent does:
  ``POST /v1/coderuns/{namespace}/{name}/cancellation/ack`` with its own bearer token
  (control-api then records the acknowledgement and deletes the run), after which the
  agent stops. Without one, :class:`AnnotateAndStop` stands in for control-api: it
  records ``remedy.dev/cancel-acknowledged-at`` itself and sets the phase to
  ``Cancelled`` (the behaviour from before control-api existed).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import requests
from kubernetes import client

from remedy.domain import agents
from remedy.handlers.control.api import ack_path
from remedy.handlers.control.auth import agent_key
from remedy.local.emulators.agents.schedule import Plan

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


class AckFailed(RuntimeError):
    """control-api did not take the acknowledgement; ``retry`` says whether to try again."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def agent_tokens(raw: str) -> dict[str, str]:
    """Agents' tokens from ``REMEDY_API_TOKENS``-style ``principal=token`` pairs.

    Operators' entries (``operator:<name>``) are skipped: a simulated agent acts only
    as itself.
    """
    tokens: dict[str, str] = {}
    for part in raw.split(","):
        principal, sep, token = part.partition("=")
        if sep and principal.strip() and not principal.strip().startswith("operator:"):
            tokens[principal.strip()] = token.strip()
    return tokens


class ControlApiAcknowledge:
    """Acknowledge the way a real agent does: POST to control-api with the agent's token."""

    def __init__(self, url: str, tokens: Mapping[str, str], *, timeout_s: float = 5.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"control-api URL {url!r} is not an http(s) URL")
        self.url = url.rstrip("/")
        self._tokens = {agent_key(login): token for login, token in tokens.items()}
        self._timeout_s = timeout_s
        self._session = requests.Session()

    def __call__(self, coderun: dict[str, Any]) -> None:
        metadata = coderun["metadata"]
        agent = str(
            (coderun.get("spec") or {}).get("githubApp")
            or (metadata.get("labels") or {}).get(agents.AGENT_LABEL)
            or ""
        )
        token = self._tokens.get(agent_key(agent))
        if token is None:
            raise AckFailed(f"no control-api token for agent {agent or '(none)'}", retry=False)
        url = self.url + ack_path(metadata["namespace"], metadata["name"])
        try:
            answer = self._session.post(
                url, headers={"Authorization": f"Bearer {token}"}, timeout=self._timeout_s
            )
        except requests.RequestException as exc:
            raise AckFailed(f"{type(exc).__name__} posting to control-api", retry=True) from exc
        if answer.status_code != 200:
            raise AckFailed(
                f"control-api answered {answer.status_code}: {answer.text[:200]}",
                retry=answer.status_code >= 500 or answer.status_code == 429,
            )

    def close(self) -> None:
        self._session.close()
