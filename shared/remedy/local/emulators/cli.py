"""``remedy emulate kube|github``: run one emulator standalone for other people's tests."""

from __future__ import annotations

import argparse
from typing import Any

from remedy.local.emulators.github import cli as github_cli
from remedy.local.emulators.kube import cli as kube_cli


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("emulate", help="run an emulator of the local platform")
    which = parser.add_subparsers(dest="emulator", required=True, metavar="EMULATOR")
    kube_cli.add_parser(which)
    github_cli.add_parser(which)
