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
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from kubernetes import config

from remedy import logs
from remedy.local.emulators.agents.cancellation import agent_tokens
from remedy.local.emulators.agents.schedule import CANCEL_MODES, OUTCOMES, Plan
from remedy.local.emulators.agents.simulator import AgentSimulator


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(
        prog="python -m remedy.local.emulators.agents", description=__doc__.splitlines()[0]
    )
    parse.add_argument("--kubeconfig", type=Path, required=True, help="kubeconfig of the cluster")
    parse.add_argument(
        "--namespace", action="append", help="namespace to watch (repeatable; default: default)"
    )
    parse.add_argument("--all-namespaces", action="store_true", help="watch every namespace")
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


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if min(args.pending_seconds, args.run_seconds, args.ack_seconds) < 0:
        print("durations must not be negative", file=sys.stderr)
        return 2
    if not args.kubeconfig.is_file():
        print(f"no kubeconfig at {args.kubeconfig}", file=sys.stderr)
        return 2
    tokens = agent_tokens(os.environ.get("REMEDY_API_TOKENS", ""))
    if args.control_api and not tokens:
        print("--control-api needs the agents' tokens in REMEDY_API_TOKENS", file=sys.stderr)
        return 2
    logs.configure()
    for token in tokens.values():
        logs.register_secret(token)
    load: Any = config.new_client_from_config
    api_client = load(config_file=str(args.kubeconfig))
    plan = Plan(args.pending_seconds, args.run_seconds, args.ack_seconds, args.outcome, args.cancel)
    namespaces = None if args.all_namespaces else (args.namespace or ["default"])
    simulator = AgentSimulator(
        api_client, namespaces, plan=plan, control_api_url=args.control_api, agent_tokens=tokens
    ).start()
    print(f"agent simulator: watching {', '.join(namespaces or ['all namespaces'])}", flush=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
