"""``remedy emulate github``: serve the GitHub emulator in the foreground.

Prints the base URL, the token to use (``Authorization: token ...``, or
``Github(base_url=URL, auth=Auth.Token(TOKEN))``) and the admin token, then serves
until Ctrl-C or SIGTERM. Tokens are printed on purpose: they are the emulator's
own, made up at start unless given, and the person starting it needs them.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from remedy import logs
from remedy.local.emulators import foreground
from remedy.local.emulators.github.model import DEFAULT_LOGIN
from remedy.local.emulators.github.server import GitHubEmulator


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "github",
        help="the GitHub REST API emulator",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    foreground.add_bind_arguments(parser)
    parser.add_argument("--token", help="token the default user authenticates with")
    parser.add_argument("--login", default=DEFAULT_LOGIN, help="the default user's login")
    parser.add_argument("--admin-token", help="token for the /_emulator/ admin endpoints")
    parser.add_argument(
        "--rate-limit", type=int, default=5000, help="primary rate limit per user per hour"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    invalid = foreground.invalid_arguments(args)
    if invalid is not None:
        print(invalid, file=sys.stderr)
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
    return foreground.serve_until_stopped(serve_forever=served.serve_forever, close=served.stop)


def main(argv: list[str] | None = None) -> int:
    """``python -m remedy.local.emulators.github.cli``: the same command without the CLI tree."""
    return foreground.run_standalone(name="github", add_parser=add_parser, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
