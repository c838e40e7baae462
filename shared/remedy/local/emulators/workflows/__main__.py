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
from collections.abc import Sequence

from remedy import logs
from remedy.local.emulators import simulation
from remedy.local.emulators.workflows.simulator import WorkflowSimulator, step_delay_from_env


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m remedy.local.emulators.workflows", description=__doc__.splitlines()[0]
    )
    simulation.add_cluster_arguments(
        parse, namespace_help="workflows' namespace (repeatable; default: default)"
    )
    parse.add_argument("--coderun-namespace", help="where the agents' CodeRuns go")
    parse.add_argument("--step-delay-seconds", type=float, help="delay before each step")
    return parse


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
    if problem := simulation.missing_kubeconfig(args):
        print(problem, file=sys.stderr)
        return 2
    logs.configure()
    namespaces = simulation.namespaces(args)
    simulator = WorkflowSimulator(
        simulation.cluster_client(args),
        namespaces,
        coderun_namespace=args.coderun_namespace,
        step_delay_s=delay,
    ).start()
    return simulation.run_until_stopped(
        simulator,
        name="workflow simulator",
        watched=namespaces,
        detail=f" (steps after {delay:g}s)",
    )


if __name__ == "__main__":
    sys.exit(main())
