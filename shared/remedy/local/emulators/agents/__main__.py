"""``python -m remedy.local.emulators.agents --kubeconfig PATH``: run the simulator standalone.

It acts on CodeRuns labelled ``remedy.dev/simulate: "true"`` in the given namespaces
(``--all-namespaces`` for every one) of whatever cluster the kubeconfig names — the
emulator or a real one — until Ctrl-C or SIGTERM.

With ``--control-api URL`` the simulated agents acknowledge cancellations through
control-api, each with its own token, read from ``REMEDY_API_TOKENS`` (the same
``principal=token`` pairs control-api reads; never on the command line, where ``ps``
would show them). Without it they record the acknowledgement on the run themselves.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from remedy import logs
from remedy.local.emulators import simulation
from remedy.local.emulators.agents.cancellation import agent_tokens
from remedy.local.emulators.agents.schedule import CANCEL_MODES, OUTCOMES, Plan
from remedy.local.emulators.agents.simulator import AgentSimulator


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m remedy.local.emulators.agents", description=__doc__.splitlines()[0]
    )
    simulation.add_cluster_arguments(
        parse, namespace_help="namespace to watch (repeatable; default: default)"
    )
    defaults = Plan()
    parse.add_argument("--pending-seconds", type=float, default=defaults.pending_seconds)
    parse.add_argument("--run-seconds", type=float, default=defaults.run_seconds)
    parse.add_argument("--ack-seconds", type=float, default=defaults.ack_seconds)
    parse.add_argument("--outcome", choices=OUTCOMES, default=defaults.outcome)
    parse.add_argument("--cancel", choices=CANCEL_MODES, default=defaults.cancel)
    parse.add_argument(
        "--control-api", metavar="URL", help="acknowledge through control-api at URL"
    )
    return parse


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if min(args.pending_seconds, args.run_seconds, args.ack_seconds) < 0:
        print("durations must not be negative", file=sys.stderr)
        return 2
    if problem := simulation.missing_kubeconfig(args):
        print(problem, file=sys.stderr)
        return 2
    tokens = agent_tokens(os.environ.get("REMEDY_API_TOKENS", ""))
    if args.control_api and not tokens:
        print("--control-api needs the agents' tokens in REMEDY_API_TOKENS", file=sys.stderr)
        return 2
    logs.configure()
    for token in tokens.values():
        logs.register_secret(token)
    plan = Plan(args.pending_seconds, args.run_seconds, args.ack_seconds, args.outcome, args.cancel)
    namespaces = simulation.namespaces(args)
    simulator = AgentSimulator(
        simulation.cluster_client(args),
        namespaces,
        plan=plan,
        control_api_url=args.control_api,
        agent_tokens=tokens,
    ).start()
    return simulation.run_until_stopped(simulator, name="agent simulator", watched=namespaces)


if __name__ == "__main__":
    sys.exit(main())
