"""What the observability tests run functions against: a collector, listeners, processes.

- :class:`OtlpReceiver` stands in for an OpenTelemetry collector: it takes OTLP/HTTP
  exports (protobuf, ``POST /v1/traces``) the way a collector does and keeps the spans,
  decoded with OpenTelemetry's own protobuf messages.
- :class:`Listener` is a dependency that must not be called: a TCP port that accepts
  connections, counts them and never answers (a Redis master, the Kubernetes API,
  GitHub, the broker, all at once).
- :class:`FunctionProcess` runs one function as Knative does (functions-framework,
  gunicorn, the http signature) with its output in a file, read back line by line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from functions_framework import create_app
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from werkzeug.test import Client

from remedy.local import functions
from remedy.local.http_server import ServedApp, serve_in_thread
from remedy.local.ports import free_port, is_listening
from tests.support.waiting import eventually

HOST = "127.0.0.1"
OUTSIDE = ("OTEL_", "REMEDY_", "REDIS_URLS", "KUBECONFIG", "GITHUB_", "K_SINK", "WEBHOOK_SECRET")
"""Settings of the caller's environment a function under test must not inherit."""


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    trace_id: str
    span_id: str
    parent_id: str | None
    attributes: dict[str, Any]

    @property
    def traceparent(self) -> str:
        return f"00-{self.trace_id}-{self.span_id}-01"


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@dataclass
class OtlpReceiver:
    """A collector's OTLP/HTTP traces endpoint; ``url`` is what OTEL_EXPORTER_OTLP_ENDPOINT
    names (the exporter appends ``/v1/traces``)."""

    spans: list[ReceivedSpan] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    served: ServedApp | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        received = []
        for resource in request.resource_spans:
            names = {a.key: _value(a.value) for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    received.append(
                        ReceivedSpan(
                            service=str(names.get("service.name")),
                            name=span.name,
                            trace_id=span.trace_id.hex(),
                            span_id=span.span_id.hex(),
                            parent_id=span.parent_span_id.hex() or None,
                            attributes={a.key: _value(a.value) for a in span.attributes},
                        )
                    )
        with self.lock:
            self.paths.append(environ["PATH_INFO"])
            self.spans.extend(received)
        answer = ExportTraceServiceResponse().SerializeToString()
        start_response("200 OK", [("Content-Type", "application/x-protobuf"),
                                  ("Content-Length", str(len(answer)))])  # fmt: skip
        return [answer]

    @property
    def url(self) -> str:
        assert self.served is not None
        return self.served.url

    def of(self, service: str) -> list[ReceivedSpan]:
        with self.lock:
            return [span for span in self.spans if span.service == service]

    def wait_for(self, service: str, count: int = 1, timeout: float = 20) -> list[ReceivedSpan]:
        """The spans of ``service`` once at least ``count`` arrived."""
        return eventually(
            lambda: (found := self.of(service)) and len(found) >= count and found,
            timeout=timeout,
            every=0.05,
            what=f"{count} span(s) from {service}",
            describe=lambda: self.spans,
        )


@contextlib.contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    receiver.served = serve_in_thread(receiver)  # type: ignore[arg-type]
    try:
        yield receiver
    finally:
        receiver.served.stop()


class Listener:
    """A TCP port that accepts and counts connections and never answers one."""

    def __init__(self) -> None:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind((HOST, 0))
        self._socket.listen(64)
        self.port: int = self._socket.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            self.accepted += 1
            self._held.append(connection)

    def close(self) -> None:
        self._socket.close()
        for connection in self._held:
            connection.close()


@dataclass
class FunctionProcess:
    name: str
    proc: subprocess.Popen[bytes]
    port: int
    output: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def lines(self) -> list[str]:
        """The complete lines it printed so far (stdout and stderr)."""
        return self.output.read_text(errors="replace").split("\n")[:-1]

    def stop(self) -> None:
        """SIGTERM its process group (gunicorn flushes on a graceful exit), then wait."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_function(name: str, env: dict[str, str], workdir: Path) -> FunctionProcess:
    """``name`` served by functions-framework with exactly ``env`` over a clean base."""
    port = free_port(HOST)
    output = workdir / f"{name}.log"
    base = {k: v for k, v in os.environ.items() if not k.startswith(OUTSIDE)}
    with output.open("wb") as sink:
        proc = subprocess.Popen(
            functions.argv(name, port=port),
            stdout=sink,
            stderr=subprocess.STDOUT,
            env={
                **base,
                "PYTHONUNBUFFERED": "1",
                "K_SERVICE": name,
                **functions.runtime_env(workdir, name),
                **env,
            },
            start_new_session=True,
        )
    started = FunctionProcess(name=name, proc=proc, port=port, output=output)

    def listening() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"{name} exited with {proc.returncode}: {started.lines()}")
        return is_listening(HOST, port)

    eventually(listening, timeout=30, every=0.05, what=f"{name} listening")
    return started


def serve(function: str) -> Client:
    """A test client of ``function`` exactly as functions-framework serves it, in-process."""
    app = create_app(target="handle", source=str(functions.source(function)))
    return app.test_client()
