"""What the agent and the workflow simulators share: watches feeding one scheduler.

Each simulator follows its objects with :class:`~remedy.local.emulators.watching.ListWatch`
es and acts from one scheduler thread that sleeps until the earliest key falls due
(:class:`DueQueue`); :class:`Simulator` starts and stops the two together. What each
simulator decides, and when a step is due, stays its own. The standalone runners
(``python -m remedy.local.emulators.agents`` / ``.workflows``) share the cluster
arguments and the run-until-Ctrl-C loop below.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import threading
from abc import abstractmethod
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Generic, Self, TypeVar, cast

from kubernetes import client, config

from remedy.local.emulators.foreground import serve_until_stopped
from remedy.local.emulators.watching import ListWatch
from remedy.local.lifecycle import Service

Key = tuple[str, str]
"""An object's namespace and name."""
Due = TypeVar("Due", datetime, float)

POLL_S = 0.5
"""The scheduler's longest sleep, so it notices ``stop`` without being woken."""


class DueQueue(Generic[Due]):
    """Keys by when they fall due, earliest first (ties in arrival order).

    Every call is made holding ``changed``; ``seconds_until`` measures a due time on the
    simulator's own clock (the agents': wall-clock datetimes; the workflows': monotonic).
    """

    def __init__(self, changed: threading.Condition, seconds_until: Callable[[Due], float]) -> None:
        self._changed = changed
        self._seconds_until: Callable[[Due], float] = seconds_until
        self._heap: list[tuple[Due, int, Key]] = []
        self._sequence = itertools.count()

    def push(self, due: Due, key: Key) -> None:
        heapq.heappush(self._heap, (due, next(self._sequence), key))
        self._changed.notify_all()

    def pop_due(self) -> Key | None:
        """The earliest key once it is due; else wait (at most :data:`POLL_S`) and answer
        None, so the scheduler checks again, and whether it should stop."""
        if not self._heap:
            self._changed.wait(POLL_S)
            return None
        when, _, key = self._heap[0]
        wait = self._seconds_until(when)
        if wait > 0:
            self._changed.wait(min(wait, POLL_S))
            return None
        heapq.heappop(self._heap)
        return key


class Simulator(Service):
    """Watches over ``namespaces`` (None: all) and one scheduler thread (``_schedule``,
    until ``_stopping`` is set), through the custom objects API of ``api_client``."""

    thread_name: ClassVar[str]

    def __init__(
        self,
        api_client: client.ApiClient,
        namespaces: Sequence[str] | None,
        *,
        watch_timeout_seconds: int,
    ) -> None:
        self._custom = client.CustomObjectsApi(api_client)
        self.namespaces = list(namespaces) if namespaces is not None else None
        self.watch_timeout_seconds = watch_timeout_seconds
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._watches: list[ListWatch] = []
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def scopes(self) -> list[str | None]:
        """One watch scope per namespace; ``[None]`` (the whole cluster) for all."""
        return list(self.namespaces) if self.namespaces is not None else [None]

    def start(self) -> Self:
        self._watches = self._open_watches()
        self._thread = threading.Thread(target=self._schedule, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._changed:
            self._changed.notify_all()
        for watch in self._watches:
            watch.stop(timeout)
        self._watches.clear()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    @abstractmethod
    def _open_watches(self) -> list[ListWatch]:
        """Start following what the simulator acts on."""

    @abstractmethod
    def _schedule(self) -> None:
        """The scheduler thread's body."""


# --- the standalone runners ---------------------------------------------------------


def add_cluster_arguments(parser: argparse.ArgumentParser, *, namespace_help: str) -> None:
    """``--kubeconfig`` (required), ``--namespace`` (repeatable) and ``--all-namespaces``."""
    parser.add_argument("--kubeconfig", type=Path, required=True, help="kubeconfig of the cluster")
    parser.add_argument("--namespace", action="append", help=namespace_help)
    parser.add_argument("--all-namespaces", action="store_true", help="watch every namespace")


def missing_kubeconfig(args: argparse.Namespace) -> str | None:
    """Why ``--kubeconfig`` cannot be used, or None."""
    return None if args.kubeconfig.is_file() else f"no kubeconfig at {args.kubeconfig}"


def cluster_client(args: argparse.Namespace) -> client.ApiClient:
    load: Any = config.new_client_from_config
    return cast(client.ApiClient, load(config_file=str(args.kubeconfig)))


def namespaces(args: argparse.Namespace) -> list[str] | None:
    """The namespaces to watch; None for every one."""
    return None if args.all_namespaces else (args.namespace or ["default"])


def run_until_stopped(
    simulator: Simulator, *, name: str, watched: list[str] | None, detail: str = ""
) -> int:
    """Say what ``simulator`` watches, then run it until Ctrl-C or SIGTERM; exit code 0."""
    print(f"{name}: watching {', '.join(watched or ['all namespaces'])}{detail}", flush=True)
    return serve_until_stopped(serve_forever=_wait_forever, close=simulator.stop)


def _wait_forever() -> None:
    threading.Event().wait()
