"""The agent simulator: plays Rex, Cleo and Tess on CodeRuns marked for simulation.

Only CodeRuns labelled ``remedy.dev/simulate: "true"`` are touched, so runs made by
hand or by tests are left alone. It follows them with
:class:`~remedy.local.emulators.watching.ListWatch` (the official kubernetes client: list,
then watch from the list's resourceVersion, re-listing after a 410), so it works
against the emulator or a real cluster. Each observed run's next step comes from
:func:`~remedy.local.emulators.agents.schedule.next_step`; a scheduler thread performs it
when due, through the status subresource (phase, ``lastUpdate``, ``finishedAt``,
conditions — fields the CodeRun CRD declares, so a real server keeps them), or
through the ``acknowledge`` callable for a cancellation: given ``control_api_url`` and
the agents' tokens, the simulated agent POSTs its acknowledgement to control-api (as a
real agent does) and stops; a failed POST is retried a few times when control-api may
take it later (5xx, unreachable).

In-process: ``AgentSimulator(api_client, namespaces=["default"]).start()`` …
``.stop()`` (or ``with``); standalone: ``python -m remedy.local.emulators.agents``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from kubernetes import client

from remedy.domain import agents
from remedy.local.emulators.agents.cancellation import (
    CODERUN,
    AckFailed,
    Acknowledge,
    AnnotateAndStop,
    CancellationBehaviour,
    ControlApiAcknowledge,
    FromAnnotations,
)
from remedy.local.emulators.agents.schedule import SELECTOR, Plan, Step, next_step, plan_for
from remedy.local.emulators.simulation import DueQueue, Key, Simulator
from remedy.local.emulators.watching import ListWatch, lister, resource_version

log = logging.getLogger(__name__)

ACK_RETRY_S = 0.25
ACK_ATTEMPTS = 8
ACK_WORKERS = 8
"""Acknowledgements in flight at once: agents are independent of each other (below
the HTTP session's pool of 10 connections to control-api, so each is reused)."""


def _now() -> datetime:
    return datetime.now(UTC)


class AgentSimulator(Simulator):
    thread_name = "agent-sim-scheduler"

    def __init__(
        self,
        api_client: client.ApiClient,
        namespaces: Sequence[str] | None = ("default",),
        *,
        plan: Plan | None = None,
        behaviour: CancellationBehaviour | None = None,
        acknowledge: Acknowledge | None = None,
        control_api_url: str | None = None,
        agent_tokens: Mapping[str, str] | None = None,
        watch_timeout_seconds: int = 300,
    ) -> None:
        super().__init__(api_client, namespaces, watch_timeout_seconds=watch_timeout_seconds)
        self.plan = plan or Plan()
        self.behaviour = behaviour or FromAnnotations()
        if acknowledge is None and control_api_url:
            acknowledge = ControlApiAcknowledge(control_api_url, agent_tokens or {})
        self.acknowledge = acknowledge or AnnotateAndStop(api_client)
        self._stopped: set[Key] = set()
        """Runs whose agent acknowledged a cancellation: it does nothing more to them."""
        self._ack_attempts: dict[Key, int] = {}
        self._runs: dict[Key, dict[str, Any]] = {}
        self._request_seen: dict[Key, datetime] = {}
        self._performed: dict[Key, tuple[str, int]] = {}
        self._queue = DueQueue[datetime](self._changed, lambda due: (due - _now()).total_seconds())
        self._acks = ThreadPoolExecutor(max_workers=ACK_WORKERS, thread_name_prefix="agent-ack")

    # --- lifecycle ----------------------------------------------------------------

    def _open_watches(self) -> list[ListWatch]:
        return [
            ListWatch(
                lister(self._custom, CODERUN, scope, selector=SELECTOR),
                self._observe,
                name=f"agent-sim-watch-{scope or 'all'}",
                timeout_seconds=self.watch_timeout_seconds,
            ).start()
            for scope in self.scopes
        ]

    def stop(self, timeout: float = 5.0) -> None:
        super().stop(timeout)
        self._acks.shutdown(wait=False, cancel_futures=True)

    # --- watching -----------------------------------------------------------------

    def _observe(self, kind: str, obj: dict[str, Any]) -> None:
        key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
        with self._changed:
            if kind == "DELETED":
                self._forget(key)
                return
            known = self._runs.get(key)
            if known is not None and resource_version(known) > resource_version(obj):
                return
            self._runs[key] = obj
            self._enqueue(key)

    def _forget(self, key: Key) -> None:
        self._stopped.discard(key)
        self._ack_attempts.pop(key, None)
        self._runs.pop(key, None)
        self._request_seen.pop(key, None)
        self._performed.pop(key, None)

    # --- scheduling ---------------------------------------------------------------

    def _step(self, key: Key) -> Step | None:
        obj = self._runs.get(key)
        if obj is None or key in self._stopped:
            return None
        plan = plan_for(obj, self.plan)
        if (obj.get("metadata") or {}).get("annotations", {}).get(agents.CANCEL_REQUESTED_AT):
            self._request_seen.setdefault(key, _now())
        step = next_step(
            obj,
            plan,
            acknowledge_after=self.behaviour.acknowledge_after(obj, plan),
            now=_now(),
            request_seen=self._request_seen.get(key),
        )
        if step is not None and self._performed.get(key) == (step.kind, resource_version(obj)):
            return None  # done already; waiting to see the result
        return step

    def _enqueue(self, key: Key) -> None:
        step = self._step(key)
        if step is not None:
            self._queue.push(step.due, key)

    def _schedule(self) -> None:
        while not self._stopping.is_set():
            with self._changed:
                due = self._due()
                if due is None:
                    continue
                key, step, obj = due
                self._performed[key] = (step.kind, resource_version(obj))
            if step.kind == "acknowledge":
                # every agent acknowledges on its own: one slow acknowledgement (a
                # round trip to control-api) must not hold up the other agents' steps
                self._acks.submit(self._run_step, key, step, obj)
            else:
                self._run_step(key, step, obj)

    def _run_step(self, key: Key, step: Step, obj: dict[str, Any]) -> None:
        try:
            self._perform(step, obj)
            if step.kind == "acknowledge":
                with self._changed:
                    self._stopped.add(key)
        except AckFailed as error:
            self._ack_failed(key, error)
        except client.ApiException as error:
            if error.status != 404:
                log.warning("agent simulator: %s of %s failed: %s", step.kind, key, error)
            with self._changed:
                self._performed.pop(key, None)
                if error.status != 404:
                    self._enqueue(key)
        except Exception as error:
            log.warning("agent simulator: %s of %s failed: %s", step.kind, key, error)

    def _ack_failed(self, key: Key, error: AckFailed) -> None:
        with self._changed:
            attempts = self._ack_attempts[key] = self._ack_attempts.get(key, 0) + 1
            if not error.retry or attempts >= ACK_ATTEMPTS:
                log.warning("agent simulator: acknowledging %s failed for good: %s", key, error)
                return  # leaves the step marked performed: no retry until the run changes
            log.info("agent simulator: acknowledging %s failed (%s); retrying", key, error)
            self._performed.pop(key, None)
            self._queue.push(_now() + timedelta(seconds=ACK_RETRY_S * attempts), key)

    def _due(self) -> tuple[Key, Step, dict[str, Any]] | None:
        """Wait (lock held) for the earliest step; None to re-check the queue."""
        key = self._queue.pop_due()
        if key is None:
            return None
        step = self._step(key)
        if step is None or step.due > _now():
            if step is not None:
                self._queue.push(step.due, key)
            return None
        return key, step, self._runs[key]

    def _perform(self, step: Step, obj: dict[str, Any]) -> None:
        metadata = obj["metadata"]
        if step.kind == "acknowledge":
            self.acknowledge(obj)
            return
        plan = plan_for(obj, self.plan)
        stamp = agents.format_time(_now())
        phase = {"pending": "Pending", "running": "Running", "finish": plan.outcome}[step.kind]
        status: dict[str, Any] = {
            "phase": phase,
            "lastUpdate": stamp,
            "message": f"{phase} (simulated agent)",
            "conditions": [
                {
                    "type": phase,
                    "status": "True",
                    "reason": "Simulated",
                    "lastTransitionTime": stamp,
                }
            ],
        }
        if step.kind == "finish":
            status["finishedAt"] = stamp
            status["workCompleted"] = plan.outcome == "Succeeded"
        updated = self._custom.patch_namespaced_custom_object_status(
            *CODERUN[:2], metadata["namespace"], CODERUN[2], metadata["name"], {"status": status}
        )
        self._observe("MODIFIED", cast(dict[str, Any], updated))
