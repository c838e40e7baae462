"""A small supervisor: start named child processes, merge their logs, stop them all.

``remedy up`` runs every part of the local platform as its own process, as they run
on a cluster. Each child gets its own session (process group) so stopping it also stops
whatever it forked (gunicorn workers), and nothing outlives ``remedy up``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from remedy import logs
from remedy.local.ports import is_listening

STOP_TIMEOUT_S = 5.0


class StartError(RuntimeError):
    pass


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    proc: subprocess.Popen[bytes]
    pump: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Supervisor:
    out: TextIO = field(default_factory=lambda: sys.stdout)
    children: list[Child] = field(default_factory=list)
    _write_lock: threading.Lock = field(default_factory=threading.Lock)

    def start(
        self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None
    ) -> Child:
        child_env = {**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            list(argv),
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        child = Child(name=name, argv=argv, proc=proc)
        child.pump = threading.Thread(target=self._pump, args=(child,), daemon=True)
        child.pump.start()
        self.children.append(child)
        return child

    def _pump(self, child: Child) -> None:
        assert child.proc.stdout is not None
        width = max(14, len(child.name))
        for raw in iter(child.proc.stdout.readline, b""):
            line = raw.decode(errors="replace").rstrip()
            if line:
                self.say(f"{child.name:<{width}} | {line}")

    def say(self, line: str) -> None:
        """Write one line of the merged log; registered secrets never get through."""
        with self._write_lock:
            self.out.write(logs.redact(line) + "\n")
            self.out.flush()

    def wait_listening(self, child: Child, host: str, port: int, timeout_s: float = 30) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not child.alive:
                raise StartError(f"{child.name} exited with {child.proc.returncode}")
            if is_listening(host, port):
                return
            time.sleep(0.05)
        raise StartError(f"{child.name} did not listen on {host}:{port} in {timeout_s:.0f}s")

    def wait_for(
        self, child: Child, ready: Callable[[], bool], *, what: str, timeout_s: float = 30
    ) -> None:
        """Wait until ``ready()`` while ``child`` runs (e.g. a file it writes on start)."""
        deadline = time.monotonic() + timeout_s
        while not ready():
            if not child.alive:
                raise StartError(f"{child.name} exited with {child.proc.returncode}")
            if time.monotonic() > deadline:
                raise StartError(f"{child.name} did not produce {what} in {timeout_s:.0f}s")
            time.sleep(0.02)

    def first_exited(self) -> Child | None:
        return next((child for child in self.children if not child.alive), None)

    def stop_all(self) -> None:
        """SIGTERM every child's process group, then SIGKILL what is left."""
        for child in reversed(self.children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self.children:
            try:
                child.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.proc.wait()
            # the group may still hold forked workers after the leader exited
            _signal_group(child, signal.SIGKILL)
        for child in self.children:
            if child.pump is not None:
                child.pump.join(timeout=1)
        self.children.clear()


def _signal_group(child: Child, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.proc.pid, signum)
