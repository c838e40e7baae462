"""``remedy up``: the whole of remedy on one machine, wired exactly as on a cluster.

What it starts, each as its own process unless noted:

- Redis: ``REDIS_URLS`` when given, else three redis-server masters;
- Kubernetes: the cluster ``KUBECONFIG`` names when given, else the Kubernetes API
  emulator (``remedy emulate kube``) with the CodeRun and Argo Workflow CRDs and the
  namespaces remedy uses;
- GitHub: ``GITHUB_API_URL`` + ``GITHUB_TOKEN`` when given, else the GitHub emulator;
- the agent simulator (it acts only on CodeRuns labelled ``remedy.dev/simulate``);
- the workflow simulator: play workflows labelled ``remedy.dev/simulate`` move on as
  Argo would move them after a resume (the next agent's CodeRun, then the next suspend
  point), each step after ``--workflow-step-delay`` seconds
  (``REMEDY_WORKFLOW_STEP_DELAY_SECONDS``, default 0.5);
- the local Knative Broker (in this process), routing by the real manifests in
  ``knative/``, and a local stand-in for the PingSource that drives the reconciler
  every few seconds;
- every function as its own functions-framework process on its own port.

It prints where to send webhooks, streams one log (each line names its process and
carries the delivery id), writes a JSON state file, and on Ctrl-C or SIGTERM stops
everything it started and removes the state file.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from remedy import logs
from remedy.local import functions, pinger
from remedy.local.broker.server import LocalBroker
from remedy.local.ports import free_port
from remedy.local.processes import Supervisor
from remedy.local.redis_servers import RedisServer, start_many

DEFAULT_WORKDIR = Path(".remedy")
KNATIVE_DIR = functions.REPO_ROOT / "knative"
HOST = "127.0.0.1"
LOCAL_REDIS_NODE_TIMEOUT_S = "0.2"
NAMESPACES = ("agent-platform", "argo", "remedy")
AGENTS = ("5DLabs-Rex", "5DLabs-Cleo", "5DLabs-Tess")


@dataclass
class LocalPlatform:
    workdir: Path = DEFAULT_WORKDIR
    out: TextIO = field(default_factory=lambda: sys.stdout)
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    ping_seconds: float = 3.0
    function_env: dict[str, str] = field(default_factory=dict)
    """Extra settings for every function (e.g. shorter grace periods in tests)."""
    workflow_step_delay_s: float | None = None
    """The workflow simulator's delay before each step; None: from ``env``, else 0.5."""
    supervisor: Supervisor = field(init=False)
    redis: list[RedisServer] = field(default_factory=list)
    broker: LocalBroker | None = None
    ports: dict[str, int] = field(default_factory=dict)
    function_envs: dict[str, dict[str, str]] = field(default_factory=dict)
    ping: pinger.Pinger | None = None
    state: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(out=self.out)
        from remedy.local.emulators.workflows.simulator import step_delay_from_env  # noqa: PLC0415

        if self.workflow_step_delay_s is None:
            self.workflow_step_delay_s = step_delay_from_env(self.env)
        if not 0 <= self.workflow_step_delay_s < float("inf"):
            raise ValueError("the workflow step delay must be a non-negative number of seconds")

    def say(self, line: str) -> None:
        self.supervisor.say(f"{'remedy up':<14} | {line}")

    # -- start ----------------------------------------------------------------------

    def start(self) -> dict[str, Any]:
        self.workdir.mkdir(parents=True, exist_ok=True)
        redis_urls = self._redis()
        kube = self._kubernetes()
        github = self._github()
        secret = self.env.get("WEBHOOK_SECRET") or secrets.token_urlsafe(24)
        api_tokens = {agent: secrets.token_urlsafe(18) for agent in AGENTS}
        api_tokens["operator:local"] = secrets.token_urlsafe(18)
        for value in (secret, *api_tokens.values()):
            logs.register_secret(value)

        names = functions.available()
        ports = {name: free_port(HOST) for name in names}
        urls = {name: f"http://{HOST}:{port}" for name, port in ports.items()}
        self.broker = LocalBroker(KNATIVE_DIR, urls).start(host=HOST)
        self.say(f"broker ingress {self.broker.url} (routes by {KNATIVE_DIR.name}/)")

        common = {
            "REDIS_URLS": ",".join(redis_urls),
            "K_SINK": self.broker.url,
            "WEBHOOK_SECRET": secret,
            "KUBECONFIG": kube["kubeconfig"],
            "GITHUB_API_URL": github["url"],
            "GITHUB_TOKEN": github["token"],
            "REMEDY_API_TOKENS": ",".join(f"{p}={t}" for p, t in api_tokens.items()),
            "REMEDY_LOG_LEVEL": self.env.get("REMEDY_LOG_LEVEL", "INFO"),
            # one machine runs every process here: Redis may answer slower than on a cluster
            "REMEDY_REDIS_NODE_TIMEOUT_SECONDS": self.env.get(
                "REMEDY_REDIS_NODE_TIMEOUT_SECONDS", LOCAL_REDIS_NODE_TIMEOUT_S
            ),
            # one gunicorn worker per function, as on Knative: its /metrics is the whole
            # function's (remedy.metrics)
            "WORKERS": "1",
            **self.function_env,
        }
        self.function_envs = {
            name: {**common, "K_SERVICE": name, **functions.runtime_env(self.workdir, name)}
            for name in names
        }
        self.ports = ports
        children = [
            (
                self.supervisor.start(
                    name, functions.argv(name, port=ports[name]), env=self.function_envs[name]
                ),
                ports[name],
            )
            for name in names
        ]
        self._simulator(kube["kubeconfig"], urls.get("control-api"), api_tokens)
        self._workflow_simulator(kube["kubeconfig"])
        for child, port in children:
            self.supervisor.wait_listening(child, HOST, port)
        if "reconciler" in names:
            self.ping = pinger.Pinger(self.broker.url, every_s=self.ping_seconds).start()
        self.state = {
            "gateway_url": urls.get("webhook-gateway"),
            "broker_url": self.broker.url,
            "control_api_url": urls.get("control-api"),
            "kubeconfig": kube["kubeconfig"],
            "github_api_url": github["url"],
            "github_token": github["token"],
            "github_admin_token": github.get("admin_token"),
            "webhook_secret": secret,
            "api_tokens": api_tokens,
            "redis_urls": redis_urls,
            "functions": urls,
            "emulated": {"kubernetes": kube["emulated"], "github": github["emulated"]},
            "pid": os.getpid(),
        }
        self.state["pids"] = self.pids()
        return self.state

    def pids(self) -> dict[str, int]:
        """Every process this platform started (for people and tests checking leftovers)."""
        pids = {child.name: child.proc.pid for child in self.supervisor.children}
        pids |= {f"redis-{i}": s.pid for i, s in enumerate(self.redis) if s.pid is not None}
        return pids

    def restart(self, name: str) -> None:
        """Start function ``name`` again on its port (after it died or was killed)."""
        child = self.supervisor.start(
            name, functions.argv(name, port=self.ports[name]), env=self.function_envs[name]
        )
        self.supervisor.wait_listening(child, HOST, self.ports[name])

    def _redis(self) -> list[str]:
        if self.env.get("REDIS_URLS"):
            urls = [u.strip() for u in self.env["REDIS_URLS"].split(",") if u.strip()]
            self.say(f"using REDIS_URLS ({len(urls)} masters)")
            return urls
        self.redis = start_many(3, workdir=self.workdir / "redis")
        self.say(f"started {len(self.redis)} redis-server masters")
        return [server.url for server in self.redis]

    def _kubernetes(self) -> dict[str, Any]:
        if self.env.get("KUBECONFIG"):
            self.say(f"using the cluster in KUBECONFIG={self.env['KUBECONFIG']}")
            return {"kubeconfig": self.env["KUBECONFIG"], "emulated": False}
        path = self.workdir / "kubeconfig"
        path.unlink(missing_ok=True)
        port = free_port(HOST)
        child = self.supervisor.start(
            "kube-emulator",
            [
                sys.executable,
                "-m",
                "remedy.cli",
                "emulate",
                "kube",
                "--port",
                str(port),
                "--kubeconfig",
                str(path),
            ],
        )
        self.supervisor.wait_listening(child, HOST, port)
        self.supervisor.wait_for(child, path.is_file, what=f"the kubeconfig at {path}")
        _prepare_cluster(path)
        self.say(f"Kubernetes API emulator on {port}; namespaces {', '.join(NAMESPACES)}")
        return {"kubeconfig": str(path.resolve()), "emulated": True}

    def _github(self) -> dict[str, Any]:
        if self.env.get("GITHUB_API_URL") and self.env.get("GITHUB_TOKEN"):
            logs.register_secret(self.env["GITHUB_TOKEN"])
            self.say(f"using GitHub at {self.env['GITHUB_API_URL']}")
            return {
                "url": self.env["GITHUB_API_URL"],
                "token": self.env["GITHUB_TOKEN"],
                "emulated": False,
            }
        port, token, admin = free_port(HOST), secrets.token_urlsafe(18), secrets.token_urlsafe(18)
        logs.register_secret(token)
        logs.register_secret(admin)
        child = self.supervisor.start(
            "github-emulator",
            [
                sys.executable,
                "-m",
                "remedy.cli",
                "emulate",
                "github",
                "--port",
                str(port),
                f"--token={token}",  # a token may start with "-": never a separate argument
                f"--admin-token={admin}",
            ],
        )
        self.supervisor.wait_listening(child, HOST, port)
        url = f"http://{HOST}:{port}"
        self.say(f"GitHub API emulator at {url}")
        return {"url": url, "token": token, "admin_token": admin, "emulated": True}

    def _simulator(self, kubeconfig: str, control_api: str | None, tokens: dict[str, str]) -> None:
        """The agents, acknowledging cancellations through control-api as real ones do."""
        argv = [
            sys.executable,
            "-m",
            "remedy.local.emulators.agents",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            "agent-platform",
        ]
        if control_api:
            argv += ["--control-api", control_api]
        tokens_env = ",".join(f"{p}={t}" for p, t in tokens.items())
        self.supervisor.start("agent-simulator", argv, env={"REMEDY_API_TOKENS": tokens_env})

    def _workflow_simulator(self, kubeconfig: str) -> None:
        """Argo's part: marked play workflows run their next agent after a resume and
        suspend at the next stage; the agents' runs go where remedy looks for them."""
        argv = [
            sys.executable,
            "-m",
            "remedy.local.emulators.workflows",
            "--kubeconfig",
            kubeconfig,
            "--namespace",
            "argo",
            "--coderun-namespace",
            "agent-platform",
            "--step-delay-seconds",
            repr(self.workflow_step_delay_s),
        ]
        self.supervisor.start("workflow-simulator", argv)

    # -- stop -------------------------------------------------------------------------

    def stop(self) -> None:
        if self.ping is not None:
            self.ping.stop()
            self.ping = None
        self.supervisor.stop_all()
        if self.broker is not None:
            self.broker.stop()
            self.broker = None
        for server in self.redis:
            server.stop()
        self.redis.clear()


def _prepare_cluster(kubeconfig: Path) -> None:
    """The namespaces remedy uses (the emulator starts with the CRDs installed)."""
    from kubernetes import client  # noqa: PLC0415  (only the emulated platform needs it here)

    from remedy.adapters.kube.api import api_client  # noqa: PLC0415

    api = api_client(str(kubeconfig))
    core = client.CoreV1Api(api)
    for name in NAMESPACES:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    api.close()  # type: ignore[no-untyped-call]


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Atomically, readable by the owner only: it holds secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(state, handle, indent=2)
        handle.write("\n")
    tmp.replace(path)


def run(args: argparse.Namespace) -> int:
    logs.configure()
    stopping: list[int] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # only a plain append here: taking a lock (Event.set) in a signal handler can
        # deadlock against the very wait the main thread is in
        stopping.append(signum)

    try:
        platform = LocalPlatform(
            workdir=args.workdir,
            ping_seconds=args.ping_seconds,
            workflow_step_delay_s=args.workflow_step_delay,
        )
    except ValueError as error:
        print(f"remedy up: {error}", file=sys.stderr)
        return 2
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    state_file: Path = args.state_file or args.workdir / "state.json"
    try:
        state = platform.start()
        if args.demo:
            from remedy.local import demo  # noqa: PLC0415

            state["demo"] = demo.seed(state, workdir=args.workdir, say=platform.say)
        write_state(state_file, state)
        platform.say(f"send GitHub webhooks to {state['gateway_url']}")
        if state.get("control_api_url"):
            platform.say(
                f"dashboard at {state['control_api_url']}/dashboard/ "
                "(sign in with api_tokens['operator:local'] from the state file)"
            )
        platform.say(f"state (URLs, secrets) in {state_file}; Ctrl-C stops everything")
        while not stopping:
            time.sleep(0.2)
            exited = platform.supervisor.first_exited()
            if exited is not None:
                platform.say(f"{exited.name} exited ({exited.proc.returncode}); stopping")
                return 1
        return 0
    finally:
        platform.say("stopping")
        platform.stop()
        state_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def register(subparsers: argparse._SubParsersAction[Any]) -> None:
    parser = subparsers.add_parser("up", help="run remedy locally on the embedded platform")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR)
    parser.add_argument("--state-file", type=Path, help="default: WORKDIR/state.json")
    parser.add_argument("--demo", action="store_true", help="seed a realistic task to try it on")
    parser.add_argument(
        "--ping-seconds", type=float, default=3.0, help="how often the reconciler is driven"
    )
    parser.add_argument(
        "--workflow-step-delay",
        type=float,
        metavar="SECONDS",
        help="the workflow simulator's delay before each step of a marked play workflow "
        "(default: REMEDY_WORKFLOW_STEP_DELAY_SECONDS, else 0.5)",
    )
    parser.set_defaults(func=run)
