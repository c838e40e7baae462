"""A threaded HTTP/1.1 WSGI server with keep-alive (and optional TLS) for the emulator.

``remedy.platform.http_server`` (werkzeug's development server) closes every
connection after one response. Over TLS, which the emulator needs (see ``tls``), that
means a handshake per request: ~3.8 ms instead of ~0.5 ms per kubernetes-client call,
which would swamp the latencies later benchmarks measure. The real apiserver keeps
connections open, so this server does too: one thread per connection, requests
answered in turn, ``Content-Length`` bodies as-is and anything else (watch streams)
chunked, flushed as produced. ``stop()`` closes idle and streaming connections too,
so clients of a stopped emulator see it gone rather than hang.
"""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import sys
import threading
import traceback
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

_IDLE_TIMEOUT_SECONDS = 120
_INTERNAL_ERROR = (
    b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
    b'"message":"an error on the server prevented the request from succeeding",'
    b'"reason":"InternalError","code":500}\n'
)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], app: WSGIApplication, context: ssl.SSLContext | None
    ) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self.context = context
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()

    def get_request(self) -> tuple[Any, Any]:
        connection, address = self.socket.accept()
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.context is not None:
            # The handshake happens in the connection's thread, on first read, so a
            # client that connects and stalls cannot hold up the accept loop.
            connection = self.context.wrap_socket(
                connection, server_side=True, do_handshake_on_connect=False
            )
        with self.connections_lock:
            self.connections.add(connection)
        return connection, address

    def shutdown_request(self, request: Any) -> None:
        with self.connections_lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Connection-level failures (a probe hanging up mid-handshake, a client
        # gone) are routine for a server; anything else is a bug worth printing.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self.connections_lock:
            connections = list(self.connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = _IDLE_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        return

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        # Every method (GET, PATCH, ...) goes to the WSGI app.
        if name.startswith("do_"):
            return self._run
        raise AttributeError(name)

    def _body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length is not None and length.isdigit():
            return self.rfile.read(int(length))
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _environ(self, body: bytes) -> dict[str, Any]:
        path, _, query = self.path.partition("?")
        environ: dict[str, Any] = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.context else "http",
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # The same key werkzeug uses: watches poll it to notice a client leaving.
            "werkzeug.socket": self.connection,
        }
        if "Content-Type" in self.headers:
            environ["CONTENT_TYPE"] = self.headers["Content-Type"]
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                environ[name] = value if name not in environ else environ[name] + "," + value
        return environ

    def _run(self) -> None:
        environ = self._environ(self._body())
        started: list[Any] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Any:
            started[:] = [status, headers]
            return self.wfile.write

        try:
            result = self.server.app(environ, start_response)
        except ConnectionError:
            self.close_connection = True
            return
        except Exception:
            # A bug in the app: answer as the apiserver does for a panic, and say why
            # on stderr, rather than dropping the connection.
            traceback.print_exc()
            started[:] = ["500 Internal Server Error", [("Content-Type", "application/json")]]
            result = [_INTERNAL_ERROR]
            self.close_connection = True
        try:
            self._send(started[0], started[1], result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _send(self, status: str, headers: list[tuple[str, str]], body: Iterable[bytes]) -> None:
        code, _, reason = status.partition(" ")
        self.send_response_only(int(code), reason)
        names = {name.lower() for name, _ in headers}
        for name, value in headers:
            self.send_header(name, value)
        chunked = "content-length" not in names
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Date", self.date_time_string())
        self.end_headers()
        for data in body:
            if not data:
                continue
            if chunked:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            else:
                self.wfile.write(data)
            self.wfile.flush()
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class Served:
    """A running server: where it listens, and how to stop it."""

    def __init__(self, server: _Server) -> None:
        self.server = server
        self.thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self.server.server_address[0])

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def open_connections(self) -> int:
        with self.server.connections_lock:
            return len(self.server.connections)

    def serve_forever(self) -> None:
        self.server.serve_forever(poll_interval=0.1)

    def start(self) -> Served:
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"kube-emulator-{self.port}",
            daemon=True,
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.close_connections()
        self.server.server_close()


def bind(app: WSGIApplication, *, host: str, port: int, context: ssl.SSLContext | None) -> Served:
    return Served(_Server((host, port), app, context))
