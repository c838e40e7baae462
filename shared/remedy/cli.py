"""The ``remedy`` console script.

Each sub-command lives beside the code it drives and registers itself through a
``register(subparsers)`` function; this module only lists those modules, so the
command tree reads as a table of contents.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

_COMMAND_MODULES = (
    "remedy.local.up",
    "remedy.local.invoke",
    "remedy.local.emulators.cli",
    "remedy.tools.commands",
    "remedy.tools.mcp.command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="remedy", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
