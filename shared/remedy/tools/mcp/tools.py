"""The MCP tools: one control-api call each, described for the model that calls them.

Each tool's docstring is its description and its annotated parameters are its input
schema, so what an LLM reads is written here, once. A tool makes its call through
:class:`~remedy.tools.control_client.ControlClient` (a fresh one per call: the SDK runs
these synchronous tools on worker threads, and a ``requests.Session`` is not for
sharing between threads) and returns control-api's JSON as the result's
``structuredContent`` — validated against the tool's output model in
:mod:`remedy.tools.mcp.outputs` — plus text: a short summary, then the JSON.

A refusal is an MCP tool error (``isError``), not a protocol error: the model reads it
and can act on it. Its text reads ``control-api answered 403 forbidden: <message>``,
and its structured content is ``{"status", "error", "message", "retry_after"}``, so
401, 403, 404, 409 and 503 stay distinguishable to a program too. A control-api that
could not be reached is ``status`` null.

``wait_for_cancellations`` blocks its worker thread on control-api's watch stream; a
wait the client cancels still runs on until the watch ends, its timeout (at most
300 s) at the latest, and its answer is then dropped.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Annotated, Any, Concatenate, Literal, ParamSpec

from mcp.types import CallToolResult, TextContent
from pydantic import Field

from remedy.tools.control_client import ControlApiError, ControlClient, WatchLine
from remedy.tools.mcp import outputs

log = logging.getLogger("remedy.mcp")

Stage = Literal[
    "pending",
    "waiting-pr-created",
    "waiting-ready-for-qa",
    "waiting-pr-approved",
    "waiting-pr-merged",
    "completed",
]
"""The play workflow's stages, as control-api's ``GET /v1/tasks`` filters them (the
domain's ``Stage``, which the tools do not import: they know remedy through control-api;
tests/mcp keep the two equal)."""

MAX_WAIT_S = 300
"""control-api's longest watch."""
_NOT_STOPPED = ("requested", "acknowledged")
"""A run is stopped once deleted, forced or gone; acknowledged is a deletion pending."""

TaskId = Annotated[
    int, Field(ge=1, le=1_000_000, description="The task's number, e.g. 12 for branch task-12-…")
]
Namespace = Annotated[
    str, Field(min_length=1, max_length=63, description="The CodeRun's namespace")
]
RunName = Annotated[str, Field(min_length=1, max_length=253, description="The CodeRun's name")]
Repository = Annotated[
    str | None,
    Field(description="owner/name, e.g. 5dlabs/cto; compared case-insensitively"),
]


P = ParamSpec("P")


def _refusals_as_tool_errors(
    method: Callable[Concatenate[RemedyTools, P], CallToolResult],
) -> Callable[Concatenate[RemedyTools, P], CallToolResult]:
    """control-api's refusals become tool errors; the signature stays the schema's source."""

    @functools.wraps(method)
    def call(self: RemedyTools, /, *args: P.args, **kwargs: P.kwargs) -> CallToolResult:
        try:
            return method(self, *args, **kwargs)
        except ControlApiError as exc:
            return refusal(method.__name__, exc)

    return call


class RemedyTools:
    """The tools, each a method; ``connect`` makes a client with the caller's token."""

    def __init__(self, connect: Callable[[], ControlClient]) -> None:
        self._connect = connect

    @_refusals_as_tool_errors
    def request_cancellation(
        self,
        task_id: TaskId,
        reason: Annotated[
            str,
            Field(
                min_length=1,
                max_length=500,
                description="Why, for the people and agents who read it (1-500 characters)",
            ),
        ],
        repository: Annotated[
            str | None,
            Field(description="The task's repository as owner/name; if given it must match"),
        ] = None,
        idempotency_key: Annotated[
            str | None,
            Field(
                pattern=r"^[A-Za-z0-9._:-]{1,100}$",
                description="Any key (letters, digits, ._:-, up to 100): a retry with the same "
                "key is the same request and the same event",
            ),
        ] = None,
    ) -> Annotated[CallToolResult, outputs.CancellationRequested]:
        """Ask remedy to cancel a task's review agents (Cleo's and Tess's CodeRuns).

        Use it when the review work on a task is obsolete (the spec changed, the wrong
        branch was reviewed). remedy asks each running review run to stop (it gets the
        remedy.dev/cancel-* annotations and a grace period), deletes runs that have not
        started, and never touches Rex's implementation run. The call returns once the
        request is on its way (a dev.remedy.cancellation.requested event); the agents stop
        shortly after: follow it with wait_for_cancellations or list_cancellations. Pass an
        idempotency_key if you might retry, so a retry is not a second request.
        Refusals: 409 wrong_state when remedy has seen no push for the task yet or the
        repository is not the task's; 503 broker_unavailable: nothing was sent, retry.
        """
        with self._connect() as client:
            accepted = client.request_cancellation(
                task_id, reason, repository=repository, idempotency_key=idempotency_key
            )
        return _answer(
            f"cancellation of task {task_id}'s review agents requested (epoch "
            f"{accepted['epoch']}, event {accepted['event_id']}); the running review runs are "
            f"being asked to stop: follow it with wait_for_cancellations",
            accepted,
        )

    @_refusals_as_tool_errors
    def acknowledge_cancellation(
        self, namespace: Namespace, name: RunName
    ) -> Annotated[CallToolResult, outputs.Acknowledged]:
        """Acknowledge that you stopped your own CodeRun because remedy asked you to.

        For agents: when the CodeRun you run as carries the annotation
        remedy.dev/cancel-requested-at, stop your work (push nothing more), then call this
        with your run's namespace and name, then exit. remedy deletes the run and records
        the cancellation as done; without an acknowledgement it deletes the run forcibly
        once remedy.dev/cancel-deadline passes. Only the run's own agent may acknowledge
        (403 forbidden for another agent's run, or for an operator); 409 wrong_state when no
        cancellation was requested for the run; 404 when there is no such run. Repeating it
        is harmless: the answer is then already-acknowledged.
        """
        with self._connect() as client:
            acknowledged = client.acknowledge(namespace, name)
        return _answer(f"{acknowledged['coderun']}: {acknowledged['message']}", acknowledged)

    @_refusals_as_tool_errors
    def get_remediation_state(
        self, task_id: TaskId
    ) -> Annotated[CallToolResult, outputs.TaskDetail]:
        """Read a task's remediation state: what remedy did for each push and where it is now.

        Gives the task's repository, branch and PR, its play workflow's stage, its current
        remediation epoch, every recorded cancellation (by namespace/name, with status,
        reason and who asked), the timeline of remediations (one per admitted push, newest
        first: agents cancelled, labels reset, workflow resumed, with times and delivery
        ids) and the history as an audit log. 404 not_found when remedy has seen no push
        for the task.
        """
        with self._connect() as client:
            detail = client.task(task_id)
        counts = _count(detail["cancellations"].values())
        return _answer(
            f"task {task_id} ({detail['repository']}, PR #{detail['pr_number']}, branch "
            f"{detail['branch']}): stage {detail['stage']}, epoch {detail['epoch']}, "
            f"{len(detail['timeline'])} remediation(s); cancellations: {counts}",
            detail,
        )

    @_refusals_as_tool_errors
    def list_cancellations(
        self, task_id: TaskId
    ) -> Annotated[CallToolResult, outputs.Cancellations]:
        """List a task's cancellations and whether those of its current epoch have all stopped.

        Each cancellation names the run (namespace, name), its agent, its status, the
        reason, who asked, the head it was for and its deadline. Status requested: the
        agent was asked and has not stopped yet; acknowledged: it acknowledged and the
        run's deletion is pending; deleted (before it started), forced (after its
        deadline) and gone: stopped. all_stopped is about the current epoch only.
        404 not_found when remedy has seen no push for the task.
        """
        with self._connect() as client:
            found = client.cancellations(task_id)
        return _answer(_cancellations_summary(found), found)

    @_refusals_as_tool_errors
    def list_tasks(
        self,
        repository: Repository = None,
        stage: Annotated[
            Stage | None, Field(description="Only tasks whose play workflow is at this stage")
        ] = None,
        limit: Annotated[
            int | None, Field(ge=1, le=200, description="Tasks per page, 1-200 (default 50)")
        ] = None,
        cursor: Annotated[
            str | None,
            Field(description="The next_cursor of the previous page, as it came (same filters)"),
        ] = None,
    ) -> Annotated[CallToolResult, outputs.TaskPage]:
        """List the tasks remedy is remediating, one summary each, a page at a time.

        Each summary gives the task's repository, its play workflow's stage, its epoch,
        its newest pushed head, its cancellations counted by status and whether a
        cancellation is still waiting for an agent to stop. Tasks come in ascending task
        id; when next_cursor is not null, call again with it as cursor for the rest.
        """
        with self._connect() as client:
            page = client.list_tasks(repository=repository, stage=stage, limit=limit, cursor=cursor)
        lines = [
            f"task {t['task_id']} ({t['repository']}): stage {t['stage']}, epoch {t['epoch']}, "
            f"cancellation requested: {'yes' if t['cancellation_requested'] else 'no'}"
            for t in page["tasks"]
        ]
        cursor = page["next_cursor"]
        more = f"; more: call again with cursor={cursor}" if cursor else ""
        return _answer("\n".join([f"{len(lines)} task(s){more}", *lines]), page)

    @_refusals_as_tool_errors
    def wait_for_cancellations(
        self,
        task_id: TaskId,
        timeout_seconds: Annotated[
            float,
            Field(
                gt=0,
                le=MAX_WAIT_S,
                description="How long to wait at most, in seconds (up to 300); keep it "
                "within your MCP client's own request timeout",
            ),
        ],
    ) -> Annotated[CallToolResult, outputs.WaitResult]:
        """Wait until every cancellation of a task's current epoch has stopped, or the timeout.

        Follows control-api's watch of the task's cancellations and returns how it ended
        (ended: all-stopped, timeout, or no-state when the task's state went away) with
        the last snapshot of the cancellations, so after a timeout you can see which runs
        have not stopped yet. A timeout is an answer, not an error: call it again to keep
        waiting. It returns at once when nothing is waiting to stop, which is also what
        it sees in the moment between request_cancellation and remedy asking the agents:
        if it ends all-stopped without the runs you expected, check list_cancellations
        and wait again once they show as requested. 404 not_found when remedy has seen
        no push for the task.
        """
        with self._connect() as client:
            lines = client.watch(task_id, timeout_seconds)
            try:
                result = _follow(task_id, timeout_seconds, lines)
            finally:
                lines.close()
        snapshot = result["last"]
        text = {
            "all-stopped": f"task {task_id}: every cancellation of the current epoch stopped",
            "timeout": f"task {task_id}: timed out after {timeout_seconds:g} s",
            "no-state": f"task {task_id}: its remediation state went away",
        }.get(result["ended"], f"task {task_id}: control-api's watch failed")
        if snapshot is not None:
            text += f" ({result['changes']} change(s) seen); {_cancellations_summary(snapshot)}"
        return _answer(text, result, error=result["ended"] == "error")

    def all(self) -> list[Callable[..., CallToolResult]]:
        return [
            self.request_cancellation,
            self.acknowledge_cancellation,
            self.get_remediation_state,
            self.list_cancellations,
            self.list_tasks,
            self.wait_for_cancellations,
        ]


def refusal(tool: str, error: ControlApiError) -> CallToolResult:
    """A tool error carrying control-api's status, error code and message."""
    if error.status is None:
        text = f"control-api did not answer ({error.code}): {error.message}"
    else:
        text = f"control-api answered {error.status} {error.code}: {error.message}"
    if error.retry_after is not None:
        text += f" (retry after {error.retry_after:g} s)"
    log.info("%s: %s", tool, text)
    refused = {
        "status": error.status,
        "error": error.code,
        "message": error.message,
        "retry_after": error.retry_after,
    }
    return _answer(text, refused, error=True)


def _answer(summary: str, answer: Mapping[str, Any], *, error: bool = False) -> CallToolResult:
    data = dict(answer)
    return CallToolResult(
        content=[
            TextContent(type="text", text=summary),
            TextContent(type="text", text=json.dumps(data)),
        ],
        structured_content=data,
        is_error=error,
    )


def _follow(task_id: int, timeout_s: float, lines: Iterator[WatchLine]) -> dict[str, Any]:
    """The watch's outcome: how it ended, the changes seen and the last snapshot."""
    last: WatchLine | None = None
    changes = 0
    reason = "error"
    for line in lines:
        kind = line.get("type")
        if kind == "end":
            reason = str(line.get("reason", "error"))
            break
        if kind == "changed":
            changes += 1
        last = {k: v for k, v in line.items() if k != "type"}
    return {
        "task_id": task_id,
        "ended": reason if reason in ("all-stopped", "timeout", "no-state") else "error",
        "timeout_seconds": timeout_s,
        "changes": changes,
        "last": last,
    }


def _count(cancellations: Iterable[Mapping[str, Any]]) -> str:
    counts: dict[str, int] = {}
    for cancellation in cancellations:
        counts[cancellation["status"]] = counts.get(cancellation["status"], 0) + 1
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "none"


def _cancellations_summary(found: Mapping[str, Any]) -> str:
    epoch = found["epoch"]
    current = [c for c in found["cancellations"] if c["epoch"] == epoch]
    waiting = [c for c in current if c["status"] in _NOT_STOPPED]
    head = f"task {found['task_id']}, epoch {epoch}: "
    if found["all_stopped"]:
        return head + f"all stopped ({_count(current)})"
    runs = ", ".join(f"{c['namespace']}/{c['name']} ({c['agent']}, {c['status']})" for c in waiting)
    return head + f"{len(waiting)} not stopped yet: {runs}"
