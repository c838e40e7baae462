"""``remedy emulate github``: serve the GitHub emulator in the foreground.

Prints the base URL, the token to use (``Authorization: token ...``, or
``Github(base_url=URL, auth=Auth.Token(TOKEN))``) and the admin token, then serves
until Ctrl-C or SIGTERM. Tokens are printed on purpose: they are the emulator's
own, made up at start unless given, and the person starting it needs them.
"""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType
from typing import Any

from remedy import logs
from remedy.emulators.github.model import DEFAULT_LOGIN
from remedy.emulators.github.server import GitHubEmulator


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "github",
        help="the GitHub REST API emulator",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--token", help="token the default user authenticates with")
    parser.add_argument("--login", default=DEFAULT_LOGIN, help="the default user's login")
    parser.add_argument("--admin-token", help="token for the /_emulator/ admin endpoints")
    parser.add_argument(
        "--rate-limit", type=int, default=5000, help="primary rate limit per user per hour"
    )
    parser.set_defaults(func=run)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        print(f"--port must be between 0 and 65535, not {args.port}", file=sys.stderr)
        return 2
    if args.token is not None and len(args.token) < 8:
        print("--token must be at least 8 characters long", file=sys.stderr)
        return 2
    try:
        emulator = GitHubEmulator(
            token=args.token,
            login=args.login,
            admin_token=args.admin_token,
            rate_limit=args.rate_limit,
        )
        served = emulator.bind(host=args.host, port=args.port)
    except (OSError, ValueError) as error:
        print(f"cannot start the GitHub emulator: {error}", file=sys.stderr)
        return 1
    # Printed below on purpose; kept out of any log line all the same.
    logs.register_secret(emulator.token)
    logs.register_secret(emulator.admin_token)
    print(f"GitHub emulator: {served.url}", flush=True)
    print(f"token ({args.login}): {emulator.token}", flush=True)
    print(f"admin token: {emulator.admin_token}", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        served.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        served.server.server_close()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m remedy.emulators.github.cli``: the same command without the CLI tree."""
    parser = argparse.ArgumentParser(prog="remedy emulate")
    add_parser(parser.add_subparsers(dest="emulator", required=True))
    args = parser.parse_args(["github", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
