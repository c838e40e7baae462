"""A small typed client of control-api, for the CLI and the MCP server.

One method per endpoint (docs/control-api.md): :meth:`ControlClient.list_tasks`,
:meth:`~ControlClient.task`, :meth:`~ControlClient.cancellations`,
:meth:`~ControlClient.request_cancellation`, :meth:`~ControlClient.acknowledge` and
:meth:`~ControlClient.watch` (the NDJSON lines of ``?watch=true``, as they come).
Answers are control-api's JSON, typed as the :class:`typing.TypedDict` views of
:mod:`remedy.tools.answers` (re-exported here).

Every failure raises :class:`ControlApiError` carrying control-api's HTTP status, its
error code and its message, so callers keep 401, 403, 404, 409 and 503 apart; a
control-api that cannot be reached, or a watch stream cut before its ``end`` line, is
the same type with ``status`` None. Missing configuration raises :class:`NotConfigured`.

Configuration is a base URL and a bearer token (the caller's own: an agent acts as
itself, an operator as an operator). :func:`settings` resolves them: explicit values,
else ``REMEDY_CONTROL_API_URL`` and ``REMEDY_API_TOKEN``, else the state file ``remedy
up`` writes (``.remedy/state.json``: ``control_api_url`` and the operator token among
``api_tokens``). The state file's token is only ever sent to the state file's URL: with
a URL given some other way and no token, configuration is missing, never guessed. The
token is never logged, never in a URL, an error or a ``repr``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import requests

from remedy.tools.answers import (
    Accepted,
    Acknowledged,
    Cancellation,
    CancellationCounts,
    Cancellations,
    HistoryEntry,
    Remediation,
    Step,
    TaskDetail,
    TaskPage,
    TaskSummary,
    WatchLine,
)

__all__ = [
    "Accepted",
    "Acknowledged",
    "Cancellation",
    "CancellationCounts",
    "Cancellations",
    "ControlApiError",
    "ControlClient",
    "HistoryEntry",
    "NotConfigured",
    "Remediation",
    "Settings",
    "Step",
    "TaskDetail",
    "TaskPage",
    "TaskSummary",
    "WatchLine",
    "settings",
]

ENV_URL = "REMEDY_CONTROL_API_URL"
ENV_TOKEN = "REMEDY_API_TOKEN"  # noqa: S105 (the variable's name, not a token)
DEFAULT_STATE_FILE = Path(".remedy") / "state.json"
"""Where ``remedy up`` (run from the repository) writes its URLs and tokens."""
OPERATOR_PREFIX = "operator:"
DEFAULT_TIMEOUT_S = 10.0
WATCH_SLACK_S = 15.0
"""How much longer than the watch's own timeout the client waits for its next line."""


class ControlApiError(Exception):
    """control-api refused or failed a call, or could not be reached (``status`` None)."""

    def __init__(
        self, status: int | None, code: str, message: str, *, retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status or 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after


class NotConfigured(ValueError):
    """No control-api URL or token; the message says how to give them."""


@dataclass(frozen=True)
class Settings:
    url: str
    token: str = field(repr=False)


def settings(
    *,
    url: str | None = None,
    token: str | None = None,
    environ: Mapping[str, str] | None = None,
    state_file: Path | None = None,
) -> Settings:
    """The URL and token: given, else from the environment, else from ``remedy up``'s state."""
    env = os.environ if environ is None else environ
    url = url or env.get(ENV_URL) or None
    token = token or env.get(ENV_TOKEN) or None
    if url and token:
        return Settings(url, token)
    local = _local_state(state_file or DEFAULT_STATE_FILE) if url is None else None
    if local is not None:  # its operator token goes only to its own control-api
        url, token = local[0], token or local[1]
        if url and token:
            return Settings(url, token)
    if not url:
        raise NotConfigured(
            f"no control-api URL: pass --url, set {ENV_URL}, or run `remedy up` "
            f"(which writes {DEFAULT_STATE_FILE}; --state-file to read another)"
        )
    raise NotConfigured(f"no control-api token for {url}: pass --token or set {ENV_TOKEN}")


def _local_state(path: Path) -> tuple[str | None, str | None] | None:
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise NotConfigured(f"cannot read {path}: {exc.__class__.__name__}") from None
    if not isinstance(state, dict):
        raise NotConfigured(f"{path} is not a state file `remedy up` wrote")
    tokens = state.get("api_tokens") or {}
    operators = sorted(p for p in tokens if isinstance(p, str) and p.startswith(OPERATOR_PREFIX))
    token = tokens[operators[0]] if operators else None
    return state.get("control_api_url"), token


class ControlClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        session: requests.Session | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise NotConfigured(f"the control-api URL {base_url[:100]!r} is not http(s)")
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._timeout_s = timeout_s
        self._session = session or requests.Session()

    @classmethod
    def from_environment(
        cls,
        *,
        url: str | None = None,
        token: str | None = None,
        environ: Mapping[str, str] | None = None,
        state_file: Path | None = None,
    ) -> ControlClient:
        """Configured as :func:`settings` resolves it."""
        found = settings(url=url, token=token, environ=environ, state_file=state_file)
        return cls(found.url, found.token)

    def __repr__(self) -> str:
        return f"ControlClient({self.base_url!r})"

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> ControlClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- endpoints ----------------------------------------------------------------

    def list_tasks(
        self,
        *,
        repository: str | None = None,
        stage: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> TaskPage:
        """One page of tasks; pass ``next_cursor`` back as ``cursor`` for the next."""
        params = {"repository": repository, "stage": stage, "limit": limit, "cursor": cursor}
        given = {k: str(v) for k, v in params.items() if v is not None}
        return cast(TaskPage, self._call("GET", "/v1/tasks", params=given))

    def task(self, task_id: int) -> TaskDetail:
        return cast(TaskDetail, self._call("GET", f"/v1/tasks/{int(task_id)}"))

    def cancellations(self, task_id: int) -> Cancellations:
        path = f"/v1/tasks/{int(task_id)}/cancellations"
        return cast(Cancellations, self._call("GET", path))

    def request_cancellation(
        self,
        task_id: int,
        reason: str,
        *,
        repository: str | None = None,
        idempotency_key: str | None = None,
    ) -> Accepted:
        """Ask for the task's review agents to be cancelled (202: the event was sent)."""
        body: dict[str, Any] = {"reason": reason}
        if repository is not None:
            body["repository"] = repository
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key is not None else {}
        path = f"/v1/tasks/{int(task_id)}/cancellations"
        return cast(Accepted, self._call("POST", path, json_body=body, headers=headers))

    def acknowledge(self, namespace: str, name: str) -> Acknowledged:
        """The caller, the run's agent, acknowledges the cancellation of its run."""
        path = f"/v1/coderuns/{quote(namespace, safe='')}/{quote(name, safe='')}"
        return cast(Acknowledged, self._call("POST", f"{path}/cancellation/ack"))

    def watch(self, task_id: int, timeout: float = 30) -> Generator[WatchLine, None, None]:
        """The lines of the task's cancellation watch, as they come, ``end`` last.

        The request is made now: a refusal (401, 404, ...) raises here, not on the first
        line. Close the iterator to stop watching early.
        """
        response = self._send(
            "GET",
            f"/v1/tasks/{int(task_id)}/cancellations",
            params={"watch": "true", "timeout": f"{timeout:g}"},
            stream=True,
            timeout=(self._timeout_s, timeout + WATCH_SLACK_S),
        )
        if response.status_code != 200:
            with response:
                raise _error(response)
        return _lines(response)

    # -- transport ----------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        response = self._send(method, path, params=params, json_body=json_body, headers=headers)
        with response:
            if response.status_code >= 400:
                raise _error(response)
            try:
                answer = response.json()
            except ValueError:
                answer = None
        if not isinstance(answer, dict):
            raise ControlApiError(response.status_code, "bad_answer", "the answer is not JSON")
        return answer

    def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
    ) -> requests.Response:
        try:
            return self._session.request(
                method,
                self.base_url + path,
                params=params,
                json=json_body,
                headers={
                    "Authorization": f"Bearer {self._token}",
                    "Accept": "application/json",
                    **(headers or {}),
                },
                stream=stream,
                timeout=timeout or self._timeout_s,
            )
        except requests.RequestException as exc:
            raise _unreachable(self.base_url, exc) from None


def _error(response: requests.Response) -> ControlApiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    status, retry_after = response.status_code, _seconds(response.headers.get("Retry-After"))
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        message = str(body.get("message", ""))
        return ControlApiError(status, body["error"], message, retry_after=retry_after)
    text = response.text[:200].strip() or response.reason or ""
    return ControlApiError(status, f"http_{status}", text, retry_after=retry_after)


def _seconds(value: str | None) -> float | None:
    try:
        seconds = float(value or "")
    except ValueError:
        return None
    return seconds if 0 <= seconds < float("inf") else None


def _unreachable(url: str, exc: requests.RequestException) -> ControlApiError:
    return ControlApiError(
        None, "unreachable", f"control-api at {url} did not answer ({exc.__class__.__name__})"
    )


def _lines(response: requests.Response) -> Generator[WatchLine, None, None]:
    with response:
        try:
            for raw in response.iter_lines():
                if not raw:
                    continue
                try:
                    entry = json.loads(raw)
                except ValueError:
                    raise ControlApiError(200, "bad_answer", "a watch line is not JSON") from None
                yield entry
                if entry.get("type") == "end":
                    return
        except requests.RequestException as exc:
            raise ControlApiError(
                None, "stream_broken", f"the watch stream broke ({exc.__class__.__name__})"
            ) from None
    raise ControlApiError(None, "stream_broken", "the watch stream ended before its end line")
