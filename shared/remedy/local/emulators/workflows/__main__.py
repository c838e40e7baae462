"""``python -m remedy.local.emulators.workflows --kubeconfig PATH``: run the simulator standalone.

It moves on the play workflows labelled ``remedy.dev/simulate: "true"`` in the given
namespaces (``--all-namespaces`` for every one) of whatever cluster the kubeconfig
names — the emulator or a real one — until Ctrl-C or SIGTERM. The agents' CodeRuns go
to ``--coderun-namespace`` (default: the workflow's own, as the template does); run
the agent simulator on that namespace to have them played. The delay before each step
is ``--step-delay-seconds``, else ``REMEDY_WORKFLOW_STEP_DELAY_SECONDS``, else 0.5.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kubernetes import config

from remedy import logs
from remedy.local.emulators.foreground import serve_until_stopped
from remedy.local.emulators.workflows.simulator import WorkflowSimulator, step_delay_from_env


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m remedy.local.emulators.workflows", description=__doc__.splitlines()[0]
    )
    parse.add_argument("--kubeconfig", type=Path, required=True, help="kubeconfig of the cluster")
    parse.add_argument(
        "--namespace", action="append", help="workflows' namespace (repeatable; default: default)"
    )
    parse.add_argument("--all-namespaces", action="store_true", help="watch every namespace")
    parse.add_argument("--coderun-namespace", help="where the agents' CodeRuns go")
    parse.add_argument("--step-delay-seconds", type=float, help="delay before each step")
    return parse


def _wait_forever() -> None:
    threading.Event().wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        delay = (
            step_delay_from_env() if args.step_delay_seconds is None else args.step_delay_seconds
        )
    except ValueError as error:
        print(error, file=sys.stderr)
        return 2
    if not 0 <= delay < float("inf"):
        print("--step-delay-seconds must be a non-negative number", file=sys.stderr)
        return 2
    if not args.kubeconfig.is_file():
        print(f"no kubeconfig at {args.kubeconfig}", file=sys.stderr)
        return 2
    logs.configure()
    load: Any = config.new_client_from_config
    api_client = load(config_file=str(args.kubeconfig))
    namespaces = None if args.all_namespaces else (args.namespace or ["default"])
    simulator = WorkflowSimulator(
        api_client, namespaces, coderun_namespace=args.coderun_namespace, step_delay_s=delay
    ).start()
    print(
        f"workflow simulator: watching {', '.join(namespaces or ['all namespaces'])}"
        f" (steps after {delay:g}s)",
        flush=True,
    )
    return serve_until_stopped(serve_forever=_wait_forever, close=simulator.stop)


if __name__ == "__main__":
    sys.exit(main())
