"""The workflow simulator: plays Argo's controller for play workflows marked for it.

Only Workflows labelled ``remedy.dev/simulate: "true"`` are touched. Whenever such a
workflow runs — not finished, no running Suspend node — the simulator performs the
play template's next step (see :mod:`~remedy.local.emulators.workflows.template`) once
``step_delay_s`` has passed since it saw that step become due: it adds the task node,
creates the agent's CodeRun (marked for the agent simulator, which runs it to its
end), waits for the run through its watch, then moves the stage and suspends at the
next stage. Every write goes through the API, so remedy sees it as it sees Argo's: the
whole workflow is replaced with its resourceVersion, and a 409 means read it again and
decide again (a resume or a replaced object changes what is next).

Restarts do not repeat work: the step under way is recorded in the workflow's nodes,
and before creating a CodeRun the simulator looks for one already made for that node
(labels ``workflow-name`` and ``remedy.dev/workflow-node``, annotation
``remedy.dev/workflow-uid``).

In-process: ``WorkflowSimulator(api_client, ["argo"], coderun_namespace="agent-platform")
.start()`` … ``.stop()`` (or ``with``); standalone: ``python -m remedy.local.emulators.workflows``.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from kubernetes import client

from remedy.domain import agents
from remedy.local.emulators.simulation import DueQueue, Key, Simulator
from remedy.local.emulators.watching import ListWatch, Observe, lister, resource_version
from remedy.local.emulators.workflows import steps, template, writes

log = logging.getLogger(__name__)

WORKFLOW = ("argoproj.io", "v1alpha1", "workflows")
CODERUN = ("agents.platform", "v1", "coderuns")
DELAY_VARIABLE = "REMEDY_WORKFLOW_STEP_DELAY_SECONDS"
DEFAULT_STEP_DELAY_S = 0.5
RETRY_S = 1.0


def step_delay_from_env(env: Mapping[str, str] | None = None) -> float:
    """``REMEDY_WORKFLOW_STEP_DELAY_SECONDS`` (default 0.5); malformed or negative fails."""
    raw = (os.environ if env is None else env).get(DELAY_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_STEP_DELAY_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{DELAY_VARIABLE}={raw!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise ValueError(f"{DELAY_VARIABLE}={raw!r} must be a non-negative number of seconds")
    return value


def _now() -> str:
    return agents.format_time(datetime.now(UTC))


class WorkflowSimulator(Simulator):
    thread_name = "workflow-sim"

    def __init__(
        self,
        api_client: client.ApiClient,
        namespaces: Sequence[str] | None = ("default",),
        *,
        coderun_namespace: str | None = None,
        step_delay_s: float = DEFAULT_STEP_DELAY_S,
        watch_timeout_seconds: int = 300,
    ) -> None:
        """``namespaces`` of the workflows (None: all); CodeRuns go to
        ``coderun_namespace``, or to their workflow's namespace as the template does."""
        if step_delay_s < 0:
            raise ValueError("step_delay_s must not be negative")
        super().__init__(api_client, namespaces, watch_timeout_seconds=watch_timeout_seconds)
        self.coderun_namespace = coderun_namespace
        self.step_delay_s = step_delay_s
        self._workflows: dict[Key, dict[str, Any]] = {}
        self._runs: dict[Key, dict[str, Any]] = {}
        self._seen: dict[Key, tuple[str, float]] = {}
        """Per workflow: the step last found due and since when (its delay runs from then)."""
        self._queue = DueQueue[float](self._changed, lambda due: due - time.monotonic())

    # --- lifecycle ----------------------------------------------------------------

    def _open_watches(self) -> list[ListWatch]:
        scopes = self.scopes
        run_scopes = [self.coderun_namespace] if self.coderun_namespace else scopes
        return [
            *(
                self._watch(template.SELECTOR, WORKFLOW, scope, self._observe_workflow)
                for scope in scopes
            ),
            *(
                self._watch(template.RUN_SELECTOR, CODERUN, scope, self._observe_run)
                for scope in run_scopes
            ),
        ]

    def _watch(
        self, selector: str, resource: tuple[str, str, str], scope: str | None, observe: Observe
    ) -> ListWatch:
        cache = self._workflows if resource is WORKFLOW else self._runs
        return ListWatch(
            lister(self._custom, resource, scope, selector=selector),
            observe,
            name=f"workflow-sim-{resource[2]}-{scope or 'all'}",
            listed=lambda items: self._resync(cache, scope, items),
            timeout_seconds=self.watch_timeout_seconds,
        ).start()

    # --- observing ----------------------------------------------------------------

    def _observe_workflow(self, kind: str, obj: dict[str, Any]) -> None:
        key = _key(obj)
        with self._changed:
            if not self._store(self._workflows, kind, obj):
                self._seen.pop(key, None)
            self._enqueue(key, 0.0)

    def _observe_run(self, kind: str, obj: dict[str, Any]) -> None:
        with self._changed:
            self._store(self._runs, kind, obj)
            self._enqueue(_owner(obj), 0.0)

    def _store(self, cache: dict[Key, dict[str, Any]], kind: str, obj: dict[str, Any]) -> bool:
        """Keep the newest copy (lock held); False when the object is gone."""
        key = _key(obj)
        if kind == "DELETED":
            cache.pop(key, None)
            return False
        known = cache.get(key)
        same = known is not None and known["metadata"].get("uid") == obj["metadata"].get("uid")
        if not (same and known is not None and resource_version(known) > resource_version(obj)):
            cache[key] = obj
        return True

    def _resync(
        self, cache: dict[Key, dict[str, Any]], scope: str | None, items: list[dict[str, Any]]
    ) -> None:
        """After a (re-)list: forget what was deleted while no watch was open."""
        listed = {_key(item) for item in items}
        with self._changed:
            for key in [k for k in cache if (scope is None or k[0] == scope) and k not in listed]:
                owner = _owner(cache.pop(key)) if cache is self._runs else key
                self._enqueue(owner, 0.0)

    # --- scheduling ---------------------------------------------------------------

    def _enqueue(self, key: Key, delay: float) -> None:
        self._queue.push(time.monotonic() + delay, key)

    def _schedule(self) -> None:
        while not self._stopping.is_set():
            with self._changed:
                key = self._queue.pop_due()
            if key is None:
                continue
            try:
                self._reconcile(key)
            except Exception as error:
                if self._stopping.is_set():
                    return
                log.warning("workflow simulator: %s/%s: %s; retrying", *key, error)
                with self._changed:
                    self._enqueue(key, RETRY_S)

    def _reconcile(self, key: Key) -> None:
        with self._changed:
            workflow = self._workflows.get(key)
            if workflow is None:
                self._seen.pop(key, None)
                return
            action = steps.next_action(workflow, lambda name: self._run(workflow, name))
            if action is None:
                self._seen.pop(key, None)
                return
            now = time.monotonic()
            signature, since = self._seen.get(key) or ("", now)
            if signature != action.signature:
                since = now
                self._seen[key] = (action.signature, now)
            remaining = since + (self.step_delay_s if action.delayed else 0.0) - now
            if remaining > 0:
                self._enqueue(key, remaining)
                return
        try:
            self._perform(workflow, action)
        except _Stale:
            self._reread(key)  # argo's rule on 409: read it again, decide again
        with self._changed:
            self._enqueue(key, 0.0)

    def _reread(self, key: Key) -> None:
        try:
            fresh = self._custom.get_namespaced_custom_object(
                *WORKFLOW[:2], key[0], WORKFLOW[2], key[1]
            )
        except client.ApiException as error:
            if error.status != 404:
                raise
            with self._changed:
                self._workflows.pop(key, None)
                self._seen.pop(key, None)
            return
        with self._changed:
            self._workflows[key] = cast(dict[str, Any], fresh)

    # --- acting -------------------------------------------------------------------

    def _run(self, workflow: dict[str, Any], name: str) -> dict[str, Any] | None:
        return self._runs.get((self._run_namespace(workflow), name))

    def _run_namespace(self, workflow: dict[str, Any]) -> str:
        return self.coderun_namespace or str(workflow["metadata"]["namespace"])

    def _perform(self, workflow: dict[str, Any], action: steps.Action) -> None:
        now = _now()
        if isinstance(action, steps.Start):
            segment = action.segment
            if segment.agent_task is None:
                self._write(writes.advanced(workflow, segment, node_id=None, now=now))
            else:
                node_id = writes.new_node_id(workflow)
                self._write(writes.started(workflow, segment, node_id=node_id, now=now))
            return
        if isinstance(action, steps.Create):
            run = self._find_run(workflow, action.node_id) or self._create_run(workflow, action)
            name = run["metadata"]["name"]
            self._write(writes.recorded(workflow, node_id=action.node_id, run_name=name))
            return
        self._finish(workflow, action)

    def _finish(self, workflow: dict[str, Any], action: steps.Finish) -> None:
        now, outcome, segment = _now(), action.outcome, action.segment
        if outcome == "Gone" and self._still_there(workflow, action.run_name):
            return  # the cache lagged (a restart, a slow watch): decide again
        if outcome == "Succeeded":
            self._write(writes.advanced(workflow, segment, node_id=action.node_id, now=now))
        elif outcome == "Failed":
            message = f"{segment.agent_task}: CodeRun {action.run_name} failed"
            self._write(writes.failed(workflow, node_id=action.node_id, message=message, now=now))
        else:
            message = f"CodeRun {action.run_name} was cancelled before it finished"
            log.info("workflow simulator: %s: %s; parked", workflow["metadata"]["name"], message)
            self._write(
                writes.parked(workflow, segment, node_id=action.node_id, message=message, now=now)
            )

    def _still_there(self, workflow: dict[str, Any], name: str) -> bool:
        namespace = self._run_namespace(workflow)
        try:
            run = self._custom.get_namespaced_custom_object(
                *CODERUN[:2], namespace, CODERUN[2], name
            )
        except client.ApiException as error:
            if error.status == 404:
                return False
            raise
        self._observe_run("ADDED", cast(dict[str, Any], run))
        return True

    def _find_run(self, workflow: dict[str, Any], node_id: str) -> dict[str, Any] | None:
        """The CodeRun already made for this node (by a run of the simulator that stopped
        before recording it), asked of the API: the cache may not have it yet."""
        metadata = workflow["metadata"]
        selector = (
            f"{template.RUN_SELECTOR},workflow-name={metadata['name']},"
            f"{template.NODE_LABEL}={writes.node_suffix(node_id)}"
        )
        listing = cast(
            dict[str, Any],
            self._custom.list_namespaced_custom_object(
                *CODERUN[:2], self._run_namespace(workflow), CODERUN[2], label_selector=selector
            ),
        )
        for run in listing.get("items") or []:
            if _annotations(run).get(template.WORKFLOW_UID) == metadata["uid"]:
                self._observe_run("ADDED", run)
                return cast(dict[str, Any], run)
        return None

    def _create_run(self, workflow: dict[str, Any], action: steps.Create) -> dict[str, Any]:
        namespace = self._run_namespace(workflow)
        manifest = writes.coderun(
            workflow, action.segment, node_id=action.node_id, namespace=namespace
        )
        run = cast(
            dict[str, Any],
            self._custom.create_namespaced_custom_object(
                *CODERUN[:2], namespace, CODERUN[2], manifest
            ),
        )
        log.info(
            "workflow simulator: %s: %s runs as CodeRun %s",
            workflow["metadata"]["name"],
            action.segment.agent_task,
            run["metadata"]["name"],
        )
        self._observe_run("ADDED", run)
        return run

    def _write(self, workflow: dict[str, Any]) -> None:
        """Replace the whole workflow, guarded by the resourceVersion it was read at."""
        metadata = workflow["metadata"]
        try:
            written = self._custom.replace_namespaced_custom_object(
                *WORKFLOW[:2], metadata["namespace"], WORKFLOW[2], metadata["name"], workflow
            )
        except client.ApiException as error:
            if error.status in (404, 409):  # changed, replaced or deleted since it was read
                raise _Stale(f"{metadata['name']}: {error.status} {error.reason}") from error
            raise
        self._observe_workflow("MODIFIED", cast(dict[str, Any], written))


class _Stale(Exception):
    """The workflow written is not the one there any more."""


def _key(obj: Mapping[str, Any]) -> Key:
    return (str(obj["metadata"].get("namespace") or ""), str(obj["metadata"]["name"]))


def _annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    return dict(obj["metadata"].get("annotations") or {})


def _owner(run: Mapping[str, Any]) -> Key:
    """The workflow a simulated CodeRun was made for."""
    metadata = run["metadata"]
    namespace = _annotations(run).get(template.WORKFLOW_NAMESPACE)
    name = (metadata.get("labels") or {}).get("workflow-name", "")
    return (str(namespace or metadata.get("namespace") or ""), str(name))
