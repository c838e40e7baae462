"""Scale-to-zero on one machine: a stand-in for Knative's activator, and memory by /proc.

On Knative a function scaled to zero has no pod; its route points at the activator,
which holds each request, has a pod started, waits until the pod's readiness probe
passes (queue-proxy probes a starting container aggressively) and then forwards the
request. :class:`Activator` does the same for one function of the local platform: it
listens where the broker (or the caller) sends that function's requests, starts the
function's process on the first request while it has none — the same command and
environment ``remedy up`` uses — polls ``GET /healthz`` until it answers 200, then
forwards every held request and relays the answers. Each start is recorded
(:class:`Start`): spawned, listening, ready, first answer. :meth:`Activator.scale_to_zero`
kills the process, so the next request starts a new one.

The extra hop costs about what Knative's activator costs (one proxied request); it is
in the figures of the functions and of their floors alike.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import requests

from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.local.ports import free_port, is_listening
from remedy.local.processes import Child, Supervisor

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

HOST = "127.0.0.1"
PROBE_EVERY_S = 0.01
"""How often a starting process is probed (connect, then ``GET /healthz``)."""
START_TIMEOUT_S = 60.0
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)
Command = Callable[[int], Sequence[str]]
"""The command that serves the function on a given port."""


@dataclass
class Start:
    """One cold start: ``time.monotonic()`` marks, from spawning on."""

    spawned: float
    listening: float | None = None
    ready: float | None = None
    answered: float | None = None
    status: int | None = None
    """The first answer's HTTP status."""
    first_request: tuple[str, str, dict[str, str], bytes] | None = None
    """The request that caused the start (method, path, headers, body), to replay."""

    def ms(self, mark: float | None) -> float | None:
        return None if mark is None else round((mark - self.spawned) * 1000, 1)

    def profile(self) -> dict[str, float | None]:
        return {
            "listening_ms": self.ms(self.listening),
            "ready_ms": self.ms(self.ready),
            "first_answer_ms": self.ms(self.answered),
        }


@dataclass
class Activator:
    name: str
    supervisor: Supervisor
    command: Command
    env: dict[str, str]
    port: int = 0
    """Where requests for the function arrive (0: a free port)."""
    starts: list[Start] = field(default_factory=list)
    child: Child | None = None
    _upstream: str = ""
    _session: requests.Session | None = None
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ServedApp | None = None

    def serve(self) -> Activator:
        """Listen on ``port``; a process just killed there may hold it a moment longer."""
        deadline = time.monotonic() + 10
        while self._server is None:
            try:
                self._server = serve_in_thread(self._app, host=HOST, port=self.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.port = self._server.port
        return self

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self.child is None else self.child.proc.pid

    def warm(self) -> None:
        """Start the process now (no request held), as a min-scale would keep it."""
        self._ensure_started(None)

    def scale_to_zero(self) -> None:
        with self._lock:
            child, self.child, session, self._session = self.child, None, self._session, None
        if session is not None:
            session.close()
        if child is not None and child.alive:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGKILL)
            child.proc.wait()

    def close(self) -> None:
        if self._server is not None:
            self._server.stop()
        self.scale_to_zero()

    # -- serving ------------------------------------------------------------------------

    def _ensure_started(self, request: tuple[str, str, dict[str, str], bytes] | None) -> None:
        with self._lock:
            if self.child is None:
                start = Start(spawned=time.monotonic(), first_request=request)
                self.starts.append(start)
                port = free_port(HOST)
                self.child = self.supervisor.start(self.name, self.command(port), env=self.env)
                self._upstream = f"http://{HOST}:{port}"
                self._session = requests.Session()
                try:
                    _wait_ready(self.child, port, start)
                finally:
                    self._lock.notify_all()

    def _app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        query = environ.get("QUERY_STRING", "")
        path = environ.get("PATH_INFO", "/") + (f"?{query}" if query else "")
        headers = _headers(environ)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        self._ensure_started((method, path, headers, body))
        with self._lock:
            session, upstream, start = self._session, self._upstream, self.starts[-1]
        assert session is not None
        response = session.request(method, upstream + path, headers=headers, data=body, timeout=60)
        now = time.monotonic()
        with self._lock:
            if start.answered is None:
                start.answered, start.status = now, response.status_code
        relayed = [(k, v) for k, v in response.headers.items() if k.lower() not in HOP_BY_HOP]
        relayed = [(k, v) for k, v in relayed if k.lower() != "content-length"]
        relayed.append(("Content-Length", str(len(response.content))))
        start_response(f"{response.status_code} {response.reason}", relayed)
        return [response.content]


def _headers(environ: WSGIEnvironment) -> dict[str, str]:
    found = {
        key[5:].replace("_", "-").title(): str(value)
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP
    }
    if environ.get("CONTENT_TYPE"):
        found["Content-Type"] = environ["CONTENT_TYPE"]
    return found


def _wait_ready(child: Child, port: int, start: Start) -> None:
    """Probe as queue-proxy does while the container starts: until ``/healthz`` is 200."""
    deadline = time.monotonic() + START_TIMEOUT_S
    with requests.Session() as probe:
        while time.monotonic() < deadline:
            if not child.alive:
                raise RuntimeError(f"{child.name} exited with {child.proc.returncode}")
            if start.listening is None and is_listening(HOST, port):
                start.listening = time.monotonic()
            if start.listening is not None:
                with contextlib.suppress(requests.ConnectionError):
                    answer = probe.get(f"http://{HOST}:{port}/healthz", timeout=30)
                    if answer.status_code == 200:
                        start.ready = time.monotonic()
                        return
            time.sleep(PROBE_EVERY_S)
    raise RuntimeError(f"{child.name} was not ready within {START_TIMEOUT_S:.0f}s")


# -- memory -------------------------------------------------------------------------------


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (gunicorn's master and its worker)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except (FileNotFoundError, ProcessLookupError):
        return []
    return [pid, *(p for child in children for p in process_tree(int(child)))]


def pss_mib(pid: int) -> float:
    """Proportional set size of ``pid``'s whole tree (pages shared between the master
    and its forked worker counted once, split between them), MiB."""
    total_kib = 0
    for each in process_tree(pid):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
    return round(total_kib / 1024, 1)


def replay(url: str, request: tuple[str, str, dict[str, str], bytes]) -> requests.Response:
    """Send a recorded request again, to ``url`` (an activator or a function)."""
    method, path, headers, body = request
    return requests.request(method, url + path, headers=headers, data=body, timeout=60)


def sink() -> ServedApp:
    """A stand-in broker ingress that takes every event (202) and does nothing with it."""

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length:
            environ["wsgi.input"].read(length)
        start_response("202 Accepted", [("Content-Length", "0")])
        return [b""]

    return serve_in_thread(app, host=HOST)


def median(values: Iterable[float | None]) -> float:
    ordered = sorted(v for v in values if v is not None)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
