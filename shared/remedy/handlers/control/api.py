"""control-api's core: the REST face of cancellations, for agents and people.

Routes (JSON in and out; every error is ``{"error": code, "message": text}``):

- ``POST /v1/coderuns/{namespace}/{name}/cancellation/ack`` — the run's own agent
  acknowledges its cancellation (see :mod:`remedy.handlers.control.ack`): 200, also
  for a repeat (which writes nothing); 401 no or unknown token; 403 not the run's agent
  (operators included); 404 unknown run; 409 no cancellation was requested.
- ``POST /v1/tasks/{task_id}/cancellations`` ``{"reason": ..., "repository": ...}`` —
  ask for the task's review agents to be cancelled: 202 with the id of the
  ``cancellation.requested`` event sent to the broker (see
  :mod:`remedy.handlers.control.requests`); 409 when the task has no remediation yet.
- ``GET /v1/tasks[?repository=&stage=&limit=&cursor=]`` — every task remedy has a
  remediation state for, one summary each, in pages (see
  :mod:`remedy.handlers.control.listing`); any authenticated caller.
- ``GET /v1/tasks/{task_id}`` — the task's remediation state, its workflow's stage and
  the timeline of its remediations (see :mod:`remedy.handlers.control.views`); 404
  when it has none.
- ``GET /v1/tasks/{task_id}/cancellations[?watch=true&timeout=30]`` — its cancellations;
  with ``watch`` a stream of JSON lines until all of the current epoch's have stopped
  or the timeout (see :mod:`remedy.handlers.control.watch`).

Every call needs ``Authorization: Bearer <token>`` (see
:mod:`remedy.handlers.control.auth` for how agents and people get theirs); identifiers
from the path are validated before anything reads them (400). An unknown path is 404,
a known one with another method 405. ``docs/control-api.md`` documents the same API.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from remedy.domain.identifiers import MAX_TASK_ID, InvalidIdentifier, validate_task_id
from remedy.handlers.common.tasks import TaskSteps
from remedy.handlers.control import listing, views
from remedy.handlers.control import requests as control_requests
from remedy.handlers.control import watch as control_watch
from remedy.handlers.control.ack import Acked, Acknowledgements
from remedy.handlers.control.auth import Principal, Tokens
from remedy.handlers.control.results import (
    ApiError,
    Response,
    bad_request,
    not_found,
    unauthorized,
)
from remedy.ports import (
    AgentRuns,
    EventSink,
    RemediationStates,
    RetryLater,
    SinkError,
    Workflows,
)

log = logging.getLogger("remedy.control_api")

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)
_TASK_ID = re.compile(r"^[0-9]{1,7}$")

ACK_PATH = re.compile(r"^/v1/coderuns/([^/]+)/([^/]+)/cancellation/ack/?$")
CANCELLATIONS_PATH = re.compile(r"^/v1/tasks/([^/]+)/cancellations/?$")
TASK_PATH = re.compile(r"^/v1/tasks/([^/]+)/?$")
TASKS_PATH = re.compile(r"^/v1/tasks/?$")


def ack_path(namespace: str, name: str) -> str:
    """Where the agent of ``namespace/name`` POSTs its acknowledgement."""
    return f"/v1/coderuns/{namespace}/{name}/cancellation/ack"


@dataclass(frozen=True)
class Call:
    """One authenticated request, as a route handler sees it."""

    caller: Principal
    groups: tuple[str, ...]
    """The identifiers captured from the path, not yet validated."""
    query: Mapping[str, str]
    headers: Mapping[str, str]
    body: bytes


Handler = Callable[[Call], Response]


class ControlApi:
    def __init__(
        self,
        *,
        runs: AgentRuns,
        tasks: TaskSteps,
        states: RemediationStates,
        workflows: Workflows,
        sink: EventSink,
        tokens: Tokens,
        polling: control_watch.Polling | None = None,
    ) -> None:
        self._acks = Acknowledgements(runs=runs, tasks=tasks)
        self._states = states
        self._workflows = workflows
        self._sink = sink
        self._tokens = tokens
        self._polling = polling or control_watch.Polling()
        self._routes: tuple[tuple[re.Pattern[str], dict[str, Handler]], ...] = (
            (ACK_PATH, {"POST": self._ack}),
            (CANCELLATIONS_PATH, {"GET": self._cancellations, "POST": self._request_cancellation}),
            (TASKS_PATH, {"GET": self._tasks}),
            (TASK_PATH, {"GET": self._state}),
        )

    def handle(
        self, method: str, target: str, *, headers: Mapping[str, str], body: bytes
    ) -> Response:
        """Answer one request; ``target`` is the path with its query string, if any."""
        parts = urlsplit(target)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        try:
            methods, groups = self._match(parts.path)
            handler = methods.get(method.upper())
            if handler is None:
                allowed = ", ".join(sorted(methods))
                raise ApiError(
                    405,
                    "method_not_allowed",
                    f"{method[:10]} is not supported on {parts.path[:200]}; use {allowed}",
                    headers={"Allow": allowed},
                )
            caller = self._tokens.authenticate(headers)
            if caller is None:
                raise unauthorized("send Authorization: Bearer <token> with a token remedy knows")
            return handler(Call(caller, groups, query, headers, body))
        except ApiError as exc:
            return exc.response()
        except RetryLater as exc:
            log.info("%s %r: retry later: %s", method[:10], parts.path[:200], exc)
            return Response(
                503, {"error": "retry_later", "message": str(exc)}, {"Retry-After": "1"}
            )
        except Exception:
            log.exception("%s %r failed", method[:10], parts.path[:200])
            return Response(500, {"error": "internal", "message": "unexpected failure; retry"})

    def _match(self, path: str) -> tuple[dict[str, Handler], tuple[str, ...]]:
        for pattern, methods in self._routes:
            found = pattern.match(path)
            if found:
                return methods, found.groups()
        raise not_found(f"no endpoint {path[:200]}; see docs/control-api.md for the API")

    # -- routes -------------------------------------------------------------------

    def _ack(self, call: Call) -> Response:
        namespace, name = _namespace(call.groups[0]), _name(call.groups[1])
        acked = self._acks.acknowledge(call.caller, namespace, name)
        return Response(200, {**_acked_body(acked), "agents_stopped": self._announce(acked)})

    def _announce(self, acked: Acked) -> dict[str, Any] | None:
        """Send ``agents.stopped`` (after the lock); on failure the reconciler re-drives."""
        if acked.event is None:
            return None
        try:
            self._sink.send(acked.event)
        except SinkError as exc:
            log.warning(
                "agents.stopped %s not sent (%s); the reconciler will", acked.event["id"], exc
            )
            return {"id": acked.event["id"], "sent": False}
        log.info("sent agents.stopped %s", acked.event["id"])
        return {"id": acked.event["id"], "sent": True}

    def _request_cancellation(self, call: Call) -> Response:
        task_id = _task_id(call.groups[0])
        request = control_requests.parse_body(call.body)
        key = next((v for k, v in call.headers.items() if k.lower() == "idempotency-key"), None)
        state, _ = self._states.load(task_id)
        event = control_requests.cancellation_event(
            state,
            task_id=task_id,
            request=request,
            caller=call.caller,
            correlation_id=control_requests.correlation_for(task_id, key),
        )
        try:
            self._sink.send(event)
        except SinkError as exc:
            log.warning("cancellation.requested for task %s not sent: %s", task_id, exc)
            raise ApiError(
                503, "broker_unavailable", "the broker did not take the request; retry",
                headers={"Retry-After": "1"},
            ) from exc  # fmt: skip
        log.info(
            "task %s: %s requested a cancellation (%s)", task_id, call.caller.label, event["id"]
        )
        return Response(202, control_requests.accepted(event))

    def _state(self, call: Call) -> Response:
        task_id = _task_id(call.groups[0])
        state, version = self._states.load(task_id)
        if state is None:
            raise not_found(f"task {task_id} has no remediation state")
        return Response(
            200,
            {
                **state.model_dump(mode="json"),
                "resource_version": version,
                "stage": views.stage_of(self._workflows.find(task_id)),
                "timeline": views.timeline(state),
            },
        )

    def _tasks(self, call: Call) -> Response:
        query = listing.parse_query(call.query)
        return Response(
            200, listing.page(self._states.load_all(), self._workflows.by_task(), query)
        )

    def _cancellations(self, call: Call) -> Response:
        task_id = _task_id(call.groups[0])
        watching = _flag(call.query.get("watch", "false"))
        timeout_s = _timeout(call.query.get("timeout"))
        state, _ = self._states.load(task_id)
        if state is None:
            raise not_found(f"task {task_id} has no remediation state")
        if not watching:
            return Response(200, control_watch.view(state))
        stream = control_watch.watch(
            self._states, task_id, timeout_s=timeout_s, polling=self._polling
        )
        return Response(200, stream=stream, headers={"Cache-Control": "no-store"})


def _acked_body(acked: Acked) -> dict[str, Any]:
    c = acked.cancellation
    message = (
        f"already acknowledged ({c.status})" if acked.already
        else f"acknowledged; the run is {'gone' if c.status == 'gone' else 'being deleted'}"
    )  # fmt: skip
    return {
        "coderun": c.key,
        "status": "already-acknowledged" if acked.already else "acknowledged",
        "message": message,
        "cancellation": c.model_dump(mode="json"),
    }


def _namespace(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise bad_request(f"namespace {value[:80]!r} is not a DNS-1123 label (a-z, 0-9, '-')")
    return value


def _name(value: str) -> str:
    if not _DNS_SUBDOMAIN.match(value):
        raise bad_request(f"CodeRun name {value[:80]!r} is not a DNS-1123 subdomain")
    return value


def _task_id(value: str) -> int:
    try:
        if not _TASK_ID.match(value):
            raise InvalidIdentifier(f"task id {value[:80]!r} is not a whole number")
        return validate_task_id(int(value))
    except InvalidIdentifier as exc:
        raise bad_request(f"{exc}: task ids are whole numbers in 1..{MAX_TASK_ID}") from None


def _flag(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("true", "1", "yes", ""):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise bad_request(f"watch={value[:20]!r}: use true or false")


def _timeout(value: str | None) -> float:
    if value is None:
        return control_watch.DEFAULT_TIMEOUT_S
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1
    if not 0 < seconds <= control_watch.MAX_TIMEOUT_S:
        raise bad_request(f"timeout={value[:20]!r}: seconds in (0, {control_watch.MAX_TIMEOUT_S}]")
    return seconds
