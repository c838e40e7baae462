"""The plumbing every ``remedy emulate <name>`` command shares.

Each emulator's CLI binds an address, checks the same two arguments (port, token),
serves in the foreground until Ctrl-C or SIGTERM and can be run as
``python -m remedy.local.emulators.<name>.cli``. Keeping that here means the emulators
cannot drift apart in how they validate input or shut down; each CLI keeps only
what is its own (its options, how it starts, what it prints).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

MIN_TOKEN_LENGTH = 8


def add_bind_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port``, with the same defaults for every emulator."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")


def invalid_arguments(args: argparse.Namespace) -> str | None:
    """Why ``--port`` or ``--token`` cannot be used, or None when both are fine."""
    if not 0 <= args.port <= 65535:
        return f"--port must be between 0 and 65535, not {args.port}"
    if args.token is not None and len(args.token) < MIN_TOKEN_LENGTH:
        return f"--token must be at least {MIN_TOKEN_LENGTH} characters long"
    return None


def _stop(signum: int, frame: FrameType | None) -> None:
    # SIGTERM ends the command the same way Ctrl-C does, through one except clause.
    raise KeyboardInterrupt


def serve_until_stopped(*, serve_forever: Callable[[], None], close: Callable[[], None]) -> int:
    """Serve until Ctrl-C or SIGTERM, always close, and return exit code 0."""
    signal.signal(signal.SIGTERM, _stop)
    try:
        serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        close()
    return 0


def run_standalone(
    *,
    name: str,
    add_parser: Callable[[argparse._SubParsersAction[Any]], None],
    argv: list[str] | None,
) -> int:
    """Run one emulator's command as if ``remedy emulate <name>`` had been typed."""
    parser = argparse.ArgumentParser(prog="remedy emulate")
    add_parser(parser.add_subparsers(dest="emulator", required=True))
    args = parser.parse_args([name, *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result
