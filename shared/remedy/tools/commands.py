"""``remedy tasks``, ``remedy task``, ``remedy cancel``, ``remedy watch``: control-api from a shell.

Each command makes the call the dashboard and the MCP server make, through
:class:`~remedy.tools.control_client.ControlClient`, and prints an aligned table (or,
with ``--json``, control-api's JSON as it came). Where control-api is: ``--url`` and
``--token``, else ``REMEDY_CONTROL_API_URL`` and ``REMEDY_API_TOKEN``, else the state
file of a running ``remedy up`` (``--state-file``, default ``.remedy/state.json``).

Exit codes, for scripts (README "CLI" and docs/control-api.md list the same):

====  ==============================================================================
0     done; for ``watch``: every cancellation of the current epoch stopped
1     an unexpected failure (control-api answered 500, or an unknown status)
2     usage: bad arguments, no URL or token configured, or control-api refused the
      request as malformed (400)
3     not found (404): the task has no remediation state (``watch``: it went away)
4     unauthorized (401) or forbidden (403)
5     conflict or wrong state (409), e.g. a cancellation for a task with no push yet
6     unavailable, retry later: 503 (task busy, broker unavailable), control-api
      unreachable, or a watch stream cut short
7     ``watch`` only: the timeout passed before everything stopped
====  ==============================================================================

2 for usage is argparse's own code, so a mistyped flag and a refused filter read alike.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from remedy.tools import render
from remedy.tools.control_client import (
    DEFAULT_STATE_FILE,
    ENV_TOKEN,
    ENV_URL,
    ControlApiError,
    ControlClient,
    NotConfigured,
    TaskPage,
    WatchLine,
)

OK = 0
FAILED = 1
USAGE = 2
NOT_FOUND = 3
DENIED = 4
CONFLICT = 5
UNAVAILABLE = 6
TIMED_OUT = 7
INTERRUPTED = 130

_BY_STATUS = {
    400: USAGE,
    401: DENIED,
    403: DENIED,
    404: NOT_FOUND,
    405: USAGE,
    409: CONFLICT,
    413: USAGE,
    429: UNAVAILABLE,
    502: UNAVAILABLE,
    503: UNAVAILABLE,
    504: UNAVAILABLE,
}
_WATCH_END = {"all-stopped": OK, "timeout": TIMED_OUT, "no-state": NOT_FOUND, "error": FAILED}

Command = Callable[[ControlClient, argparse.Namespace], int]


def exit_code(error: ControlApiError) -> int:
    """The exit code for a failed call: by HTTP status; no answer at all is "retry later"."""
    if error.status is None:
        return UNAVAILABLE
    return _BY_STATUS.get(error.status, FAILED)


# -- commands -------------------------------------------------------------------------


def tasks(client: ControlClient, args: argparse.Namespace) -> int:
    page = client.list_tasks(
        repository=args.repository, stage=args.stage, limit=args.limit, cursor=args.cursor
    )
    if args.all:
        page = _every_page(client, args, page)
    if args.json:
        _print(json.dumps(page))
        return OK
    _print(render.tasks(page["tasks"]))
    if page["next_cursor"]:
        _note(f"more tasks: add --cursor {page['next_cursor']} (or --all)")
    return OK


def _every_page(client: ControlClient, args: argparse.Namespace, page: TaskPage) -> TaskPage:
    found = list(page["tasks"])
    cursor = page["next_cursor"]
    while cursor:
        more = client.list_tasks(
            repository=args.repository, stage=args.stage, limit=args.limit, cursor=cursor
        )
        found += more["tasks"]
        cursor = more["next_cursor"]
    return {"tasks": found, "next_cursor": None}


def task(client: ControlClient, args: argparse.Namespace) -> int:
    detail = client.task(args.task_id)
    _print(json.dumps(detail) if args.json else render.task(detail))
    return OK


def cancel(client: ControlClient, args: argparse.Namespace) -> int:
    accepted = client.request_cancellation(
        args.task_id,
        args.reason,
        repository=args.repository,
        idempotency_key=args.idempotency_key,
    )
    if args.json:
        _print(json.dumps(accepted))
        return OK
    _print(
        f"cancellation of task {args.task_id}'s review agents requested "
        f"(epoch {accepted['epoch']}, event {accepted['event_id']})"
    )
    _note(f"follow it with: remedy watch {args.task_id}")
    return OK


def watch(client: ControlClient, args: argparse.Namespace) -> int:
    lines = client.watch(args.task_id, timeout=args.timeout)
    end = _follow(lines, as_json=args.json)
    reason = str(end.get("reason", ""))
    if not args.json:
        _print(_ending(reason, args.timeout))
    return _WATCH_END.get(reason, FAILED)


def _follow(lines: Iterator[WatchLine], *, as_json: bool) -> WatchLine:
    last: WatchLine | None = None
    for line in lines:
        if as_json:
            _print(json.dumps(line))
        elif line.get("type") == "snapshot":
            _print(f"task {line['task_id']}, epoch {line['epoch']}: cancellations")
            _print(render.cancellations_table(line["cancellations"]))
        elif line.get("type") == "changed" and last is not None:
            for change in render.changes(last, line):
                _print(change)
        if line.get("type") == "end":
            return line
        last = line
    raise ControlApiError(None, "stream_broken", "the watch ended without its end line")


def _ending(reason: str, timeout: float) -> str:
    return {
        "all-stopped": "all stopped",
        "timeout": f"timed out after {timeout:g} s; not everything has stopped",
        "no-state": "the task's remediation state is gone",
    }.get(reason, f"the watch ended: {render.clean(reason) or 'no reason given'}")


# -- plumbing -----------------------------------------------------------------------------


def run(command: Command, args: argparse.Namespace) -> int:
    name = f"remedy {args.command}"
    try:
        client = ControlClient.from_environment(
            url=args.url, token=args.token, state_file=args.state_file
        )
    except NotConfigured as exc:
        _note(f"{name}: {exc}")
        return USAGE
    try:
        with client:
            return command(client, args)
    except ControlApiError as exc:
        if getattr(args, "json", False):
            _print(json.dumps({"error": exc.code, "message": exc.message, "status": exc.status}))
        status = exc.status if exc.status is not None else "no answer"
        _note(f"{name}: {status} {exc.code}: {render.clean(exc.message, width=500)}")
        return exit_code(exc)
    except KeyboardInterrupt:
        return INTERRUPTED


def _print(text: str) -> None:
    print(text, flush=True)


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _connection() -> argparse.ArgumentParser:
    shared = argparse.ArgumentParser(add_help=False)
    where = shared.add_argument_group("where control-api is")
    where.add_argument("--url", help=f"control-api's base URL (default: ${ENV_URL})")
    where.add_argument(
        "--token",
        help=f"your control-api token (default: ${ENV_TOKEN}; prefer the variable, "
        "a flag shows in the process list)",
    )
    where.add_argument(
        "--state-file",
        type=Path,
        help=f"a `remedy up` state file to fall back on (default: {DEFAULT_STATE_FILE})",
    )
    shared.add_argument("--json", action="store_true", help="print control-api's JSON")
    return shared


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    shared = [_connection()]
    epilog = "exit codes: 0 ok, 1 failed, 2 usage, 3 not found, 4 unauthorized/forbidden, "
    epilog += "5 conflict, 6 unavailable (retry), 7 watch timed out"

    def add(name: str, command: Command, help_text: str) -> argparse.ArgumentParser:
        parser = subparsers.add_parser(name, help=help_text, parents=shared, epilog=epilog)
        parser.set_defaults(func=lambda args: run(command, args))
        return parser

    listing = add("tasks", tasks, "list the tasks remedy is remediating (control-api)")
    listing.add_argument("--repository", metavar="OWNER/NAME", help="only this repository's")
    listing.add_argument("--stage", help="only tasks whose play workflow is at this stage")
    listing.add_argument("--limit", type=int, help="tasks per page (1..200, default 50)")
    listing.add_argument("--cursor", help="continue where a previous page ended")
    listing.add_argument("--all", action="store_true", help="follow every page")

    one = add("task", task, "show a task: stage, remediations, cancellations")
    one.add_argument("task_id", type=int, metavar="TASK")

    cancelling = add("cancel", cancel, "ask for a task's review agents to be cancelled")
    cancelling.add_argument("task_id", type=int, metavar="TASK")
    cancelling.add_argument("--reason", required=True, help="why (1-500 characters)")
    cancelling.add_argument("--repository", metavar="OWNER/NAME", help="must be the task's")
    cancelling.add_argument(
        "--idempotency-key", metavar="KEY", help="a retry with the same key is handled once"
    )

    watching = add("watch", watch, "follow a task's cancellations until they all stop")
    watching.add_argument("task_id", type=int, metavar="TASK")
    watching.add_argument(
        "--timeout", type=float, default=30.0, help="seconds, at most 300 (default 30)"
    )
