"""The Kubernetes adapter: CodeRuns, remediation-state ConfigMaps and play workflows.

One adapter per outside system; everything remedy does to Kubernetes goes through the
official client here, fenced where it writes: CodeRun annotations are merged with the
resourceVersion the decision was made on (a concurrent change is a 409, never an
overwrite), deletions carry a uid precondition (a recreated run of the same name is
never touched), state ConfigMaps and workflows are replaced with their resourceVersion.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

from remedy.adapters.kube.rest import CONFIG_MAPS, MERGE_PATCH, Rest, custom_path
from remedy.domain import workflows as wf
from remedy.domain.agents import TASK_LABEL, AgentRun
from remedy.domain.audit import ObjectRef
from remedy.domain.identifiers import validate_task_id
from remedy.domain.remediation import RemediationState
from remedy.ports import Conflict, NotFound, RetryLater

CODERUN = ("agents.platform", "v1", "coderuns")
WORKFLOW = ("argoproj.io", "v1alpha1", "workflows")
STATE_KEY = "state.json"
STATE_LABEL = "remedy.dev/remediation-state"


def api_client(kubeconfig: str | None = None) -> client.ApiClient:
    """From ``kubeconfig`` (or $KUBECONFIG), else the in-cluster service account."""
    path = kubeconfig or os.environ.get("KUBECONFIG")
    configuration = client.Configuration()
    if path:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path, client_configuration=configuration
        )
    else:
        config.load_incluster_config(  # type: ignore[no-untyped-call]
            client_configuration=configuration
        )
    configuration.retries = False
    hooked: Any = configuration  # the stubs type the hook as always None
    if hooked.refresh_api_key_hook is not None:
        hooked.refresh_api_key_hook = ThrottledRefresh(hooked.refresh_api_key_hook)
    return client.ApiClient(configuration)


class ThrottledRefresh:
    """The client's credential refresh, at most once per ``interval_s``.

    The kubernetes loaders (kubeconfig token and in-cluster alike) install a hook the
    client calls before *every* request; it re-applies the whole configuration, and
    setting ``host`` re-reads the proxy settings from the environment: ~0.25 ms of CPU
    a call, a quarter of a call's client cost. Credentials change far more slowly (the
    in-cluster token is re-read once a minute, exec tokens last minutes to hours), so
    the hook runs once a second at most. Each run re-installs a fresh hook, which is
    wrapped again.
    """

    def __init__(
        self, hook: Any, *, interval_s: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._hook = hook
        self._interval_s = interval_s
        self._clock = clock
        self._last: float | None = None

    def __call__(self, configuration: Any) -> None:
        now = self._clock()
        if self._last is not None and now - self._last < self._interval_s:
            return
        self._last = now
        self._hook(configuration)
        if configuration.refresh_api_key_hook is not self:
            self._hook = configuration.refresh_api_key_hook
            configuration.refresh_api_key_hook = self


def _raise(exc: ApiException, what: str) -> None:
    if exc.status == 404:
        raise NotFound(f"{what} not found") from exc
    if exc.status == 409:
        raise Conflict(f"{what} changed concurrently (409): {_reason(exc)}") from exc
    if exc.status in (429, 500, 502, 503, 504):
        raise RetryLater(f"Kubernetes answered {exc.status} for {what}") from exc
    raise exc


def _reason(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message", ""))
    except ValueError:
        return str(exc.body)[:200]


def _selected(
    rest: Rest, resource: tuple[str, str, str], namespace: str, selector: str
) -> list[dict[str, Any]]:
    """The custom objects of ``resource`` (group, version, plural) in ``namespace`` that
    ``selector`` picks, as raw JSON like every read here."""
    group, version, plural = resource
    try:
        listing = rest.request(
            "GET",
            custom_path(group, version, plural),
            {"namespace": namespace},
            query=[("labelSelector", selector)],
        )
    except ApiException as exc:
        _raise(exc, f"{plural} in {namespace}")
    items: list[dict[str, Any]] = listing.get("items", [])
    return items


_CODERUN = custom_path(*CODERUN, named=True)
_WORKFLOW = custom_path(*WORKFLOW, named=True)


class KubeAgentRuns:
    def __init__(self, api: client.ApiClient, *, namespaces: Sequence[str]) -> None:
        self._rest = Rest(api)
        self._namespaces = tuple(namespaces)

    def list_for_task(self, task_id: int) -> list[AgentRun]:
        selector = f"{TASK_LABEL}={validate_task_id(task_id)}"
        runs: list[AgentRun] = []
        for namespace in self._namespaces:
            selected = _selected(self._rest, CODERUN, namespace, selector)
            runs += [AgentRun.from_object(item) for item in selected]
        return runs

    def get(self, namespace: str, name: str) -> AgentRun:
        try:
            obj = self._rest.request("GET", _CODERUN, {"namespace": namespace, "name": name})
        except ApiException as exc:
            _raise(exc, f"coderun {namespace}/{name}")
        return AgentRun.from_object(obj)

    def annotate(self, run: AgentRun, annotations: Mapping[str, str]) -> AgentRun:
        # resourceVersion in a merge patch is a precondition: a changed run answers 409
        patch = {
            "metadata": {
                "resourceVersion": run.resource_version,
                "uid": run.uid,
                "annotations": dict(annotations),
            }
        }
        try:
            obj = self._rest.request(
                "PATCH", _CODERUN, {"namespace": run.namespace, "name": run.name},
                body=patch, content_type=MERGE_PATCH,
            )  # fmt: skip
        except ApiException as exc:
            _raise(exc, f"coderun {run.key}")
        return AgentRun.from_object(obj)

    def delete(self, run: AgentRun, *, grace_period_s: int | None) -> None:
        options: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "preconditions": {"uid": run.uid},
            "propagationPolicy": "Background",
        }
        if grace_period_s is not None:
            options["gracePeriodSeconds"] = grace_period_s
        try:
            self._rest.request(
                "DELETE", _CODERUN, {"namespace": run.namespace, "name": run.name},
                body=options, answer=False,
            )  # fmt: skip
        except ApiException as exc:
            if exc.status == 404:
                return
            if exc.status == 409:  # uid precondition: the name now holds another run
                return
            _raise(exc, f"coderun {run.key}")

    def gone(self, run: AgentRun) -> bool:
        try:
            current = self.get(run.namespace, run.name)
        except NotFound:
            return True
        return current.uid != run.uid


def state_name(task_id: int) -> str:
    return f"task-{validate_task_id(task_id)}-remediation-state"


class KubeRemediationStates:
    """``task-<id>-remediation-state`` ConfigMaps; writes are resourceVersion CAS.

    Each ConfigMap's uid is remembered from its last load or save here, so an Event
    about a task (:meth:`ref`) names it without another request.
    """

    def __init__(self, api: client.ApiClient, *, namespace: str) -> None:
        self._rest = Rest(api)
        self._namespace = namespace
        self._uids: dict[int, str] = {}

    def load(self, task_id: int) -> tuple[RemediationState | None, str | None]:
        try:
            obj = self._call("GET", state_name(task_id))
        except ApiException as exc:
            if exc.status == 404:
                return None, None
            _raise(exc, f"configmap {state_name(task_id)}")
        self._uids[task_id] = str(obj["metadata"].get("uid", ""))
        raw = (obj.get("data") or {}).get(STATE_KEY, "{}")
        return RemediationState.model_validate_json(raw), obj["metadata"]["resourceVersion"]

    def save(self, state: RemediationState, *, resource_version: str | None) -> str:
        name = state_name(state.task_id)
        body: Any = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": name,
                "namespace": self._namespace,
                "labels": {STATE_LABEL: "true", TASK_LABEL: str(state.task_id)},
            },
            "data": {STATE_KEY: state.model_dump_json()},
        }
        try:
            if resource_version is None:
                obj = self._call("POST", body=body)
            else:
                body["metadata"]["resourceVersion"] = resource_version
                obj = self._call("PUT", name, body=body)
        except ApiException as exc:
            _raise(exc, f"configmap {name}")
        self._uids[state.task_id] = str(obj["metadata"].get("uid", ""))
        return str(obj["metadata"]["resourceVersion"])

    def ref(self, task_id: int) -> ObjectRef:
        uid = self._uids.get(task_id, "")
        return ObjectRef("v1", "ConfigMap", self._namespace, state_name(task_id), uid)

    def task_ids(self) -> list[int]:
        ids = []
        for item in self._listed():
            value = (item["metadata"].get("labels") or {}).get(TASK_LABEL, "")
            if value.isdigit():
                ids.append(int(value))
        return sorted(ids)

    def load_all(self) -> list[RemediationState]:
        return [
            RemediationState.model_validate_json((item.get("data") or {}).get(STATE_KEY, "{}"))
            for item in self._listed()
        ]

    def _listed(self) -> list[dict[str, Any]]:
        try:
            listing = self._call("GET", query=[("labelSelector", f"{STATE_LABEL}=true")])
        except ApiException as exc:
            _raise(exc, "remediation state configmaps")
        items: list[dict[str, Any]] = listing.get("items", [])
        return items

    def _call(
        self,
        method: str,
        name: str | None = None,
        *,
        body: Any = None,
        query: list[tuple[str, str]] | None = None,
    ) -> Any:
        path, params = CONFIG_MAPS, {"namespace": self._namespace}
        if name is not None:
            path, params = f"{CONFIG_MAPS}/{{name}}", {**params, "name": name}
        return self._rest.request(method, path, params, body=body, query=query or ())


class KubeWorkflows:
    def __init__(self, api: client.ApiClient, *, namespace: str) -> None:
        self._rest = Rest(api)
        self._namespace = namespace

    def find(self, task_id: int) -> dict[str, Any] | None:
        selector = f"{wf.TYPE_LABEL}={wf.PLAY},{wf.TASK_LABEL}={validate_task_id(task_id)}"
        return wf.pick(_selected(self._rest, WORKFLOW, self._namespace, selector))

    def by_task(self) -> dict[int, dict[str, Any]]:
        selector = f"{wf.TYPE_LABEL}={wf.PLAY}"
        return wf.by_task(_selected(self._rest, WORKFLOW, self._namespace, selector))

    def replace(self, workflow: dict[str, Any]) -> dict[str, Any]:
        name = workflow["metadata"]["name"]
        try:
            obj: dict[str, Any] = self._rest.request(
                "PUT", _WORKFLOW, {"namespace": self._namespace, "name": name}, body=workflow
            )
        except ApiException as exc:
            _raise(exc, f"workflow {name}")
        return obj
