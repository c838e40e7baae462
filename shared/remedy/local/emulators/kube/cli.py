"""``remedy emulate kube``: serve the Kubernetes API emulator in the foreground.

Writes a kubeconfig for it (``--kubeconfig``; kubectl and the kubernetes client use
it unchanged), prints the base URL, and serves until Ctrl-C or SIGTERM. Without
``--kubeconfig`` the bearer token is printed instead, since the person starting the
emulator needs it; it is the emulator's own, made up at start unless given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from remedy.local.emulators import foreground
from remedy.local.emulators.kube.server import KubeEmulator


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "kube",
        help="the Kubernetes API emulator",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    foreground.add_bind_arguments(parser)
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for the emulator here")
    parser.add_argument("--token", help="bearer token clients must present (default: random)")
    parser.add_argument(
        "--no-crds",
        action="store_true",
        help="start without remedy's CRDs (CodeRun, Workflow) installed",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    invalid = foreground.invalid_arguments(args)
    if invalid is not None:
        print(invalid, file=sys.stderr)
        return 2
    emulator = KubeEmulator(token=args.token, install_crds=not args.no_crds)
    try:
        emulator.bind(host=args.host, port=args.port)
        if args.kubeconfig is not None:
            emulator.write_kubeconfig(args.kubeconfig)
    except OSError as error:
        print(f"cannot start the Kubernetes API emulator: {error}", file=sys.stderr)
        return 1
    print(f"Kubernetes API emulator: {emulator.url}", flush=True)
    if args.kubeconfig is not None:
        print(f"kubeconfig: {args.kubeconfig}", flush=True)
    else:
        print(f"token: {emulator.token}", flush=True)
    return foreground.serve_until_stopped(serve_forever=emulator.serve_forever, close=emulator.stop)


def main(argv: list[str] | None = None) -> int:
    """``python -m remedy.local.emulators.kube.cli``: the same command without the CLI tree."""
    return foreground.run_standalone(name="kube", add_parser=add_parser, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
