"""``remedy emulate kube``: serve the Kubernetes API emulator in the foreground.

Writes a kubeconfig for it (``--kubeconfig``; kubectl and the kubernetes client use
it unchanged), prints the base URL, and serves until Ctrl-C or SIGTERM. Without
``--kubeconfig`` the bearer token is printed instead, since the person starting the
emulator needs it; it is the emulator's own, made up at start unless given.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from remedy.emulators.kube.server import KubeEmulator


def add_parser(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser(
        "kube",
        help="the Kubernetes API emulator",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig for the emulator here")
    parser.add_argument("--token", help="bearer token clients must present (default: random)")
    parser.add_argument(
        "--no-crds",
        action="store_true",
        help="start without remedy's CRDs (CodeRun, Workflow) installed",
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
    signal.signal(signal.SIGTERM, _stop)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    """``python -m remedy.emulators.kube.cli``: the same command without the CLI tree."""
    parser = argparse.ArgumentParser(prog="remedy emulate")
    add_parser(parser.add_subparsers(dest="emulator", required=True))
    args = parser.parse_args(["kube", *(sys.argv[1:] if argv is None else argv)])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
