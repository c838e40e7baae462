"""``remedy mcp``: remedy's MCP server, as an agent runtime launches it.

Over stdio by default (the runtime starts ``remedy mcp`` and speaks MCP on its stdin
and stdout); ``--http PORT`` serves streamable HTTP on 127.0.0.1 instead. Where
control-api is and whose token to use: ``REMEDY_CONTROL_API_URL`` and
``REMEDY_API_TOKEN`` (the caller's own token: an agent acts as itself, an operator as
an operator), else a running ``remedy up``'s state file, as for the CLI (see
:func:`remedy.tools.control_client.settings`). There is no ``--token``: a flag shows in
the process list, and runtimes pass environment variables anyway.

This module imports the SDK only when the command runs, so ``remedy`` works without
the ``mcp`` extra and ``remedy mcp`` says how to install it. Exit codes: 0 the client
closed the session, 2 usage (no configuration, the SDK missing).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from remedy.tools.control_client import (
    DEFAULT_STATE_FILE,
    ENV_TOKEN,
    ENV_URL,
    ControlClient,
    NotConfigured,
    Settings,
    settings,
)

OK = 0
USAGE = 2
SDK = ">=2.3,<3"
"""The SDK versions remedy's ``mcp`` extra allows (pyproject.toml)."""

log = logging.getLogger("remedy.mcp")


def run(args: argparse.Namespace) -> int:
    try:
        from remedy.tools.mcp import server  # noqa: PLC0415 (the optional SDK, only now)
    except ImportError as exc:
        if (exc.name or "").partition(".")[0] != "mcp":
            raise
        _note(
            f"remedy mcp needs the MCP Python SDK (mcp{SDK}), remedy's `mcp` extra, which is "
            f"not installed here: {sys.executable} -m pip install -e '.[mcp]' in remedy's "
            f"clone (or {sys.executable} -m pip install 'mcp{SDK}')"
        )
        return USAGE
    try:
        found = settings(state_file=args.state_file)
        ControlClient(found.url, found.token).close()  # refuses a URL that is not http(s)
    except NotConfigured as exc:
        _note(f"remedy mcp: {exc}")
        return USAGE
    _log_to_stderr(args.log_level)
    built = server.build(lambda: _client(found))
    log.info("remedy mcp: tools for control-api at %s", found.url)
    try:
        if args.http is None:
            server.serve_stdio(built)
        else:
            server.serve_http(built, port=args.http)
    except KeyboardInterrupt:
        pass
    return OK


def _client(found: Settings) -> ControlClient:
    return ControlClient(found.url, found.token)


def _log_to_stderr(level: str) -> None:
    """Before the SDK's own set-up, which then leaves the root logger as it is."""
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def _note(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _port(text: str) -> int:
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a TCP port (1-65535)")
    return port


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "mcp",
        help="serve remedy's tools to agents over MCP (stdio; --http for streamable HTTP)",
        description=f"remedy's MCP server over control-api. Configured by ${ENV_URL} and "
        f"${ENV_TOKEN} (your own token), else a running `remedy up`'s {DEFAULT_STATE_FILE}. "
        "Needs remedy's mcp extra (pip install -e '.[mcp]' in the clone).",
    )
    parser.add_argument(
        "--http",
        type=_port,
        metavar="PORT",
        help="serve streamable HTTP at http://127.0.0.1:PORT/mcp instead of stdio",
    )
    parser.add_argument(
        "--state-file",
        type=Path,
        help=f"a `remedy up` state file to fall back on (default: {DEFAULT_STATE_FILE})",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="what goes to stderr (default INFO); stdout carries only the protocol",
    )
    parser.set_defaults(func=run)
