"""Serve a WSGI app over keep-alive HTTP/1.1 (TLS optional), from a thread or the foreground.

Every in-process server of the local platform runs on this: the broker's ingress, the
GitHub and Kubernetes emulators, the tests' stand-ins. The services they stand in for
keep connections open, and so does this server. werkzeug's development server, used
before, closed the connection after every response, so every broker delivery and every
GitHub call paid a TCP connect and a new connection on both sides — over TLS a
handshake too (~3.8 ms instead of ~0.5 ms per kubernetes-client call).

One thread per connection answers its requests in turn. The app reads the request body
as it arrives (``Content-Length`` or chunked), so it can refuse a huge one before it is
sent; what it leaves unread is read off when small, else the connection closes after
the answer. Responses with ``Content-Length`` go as they are, others (watch streams)
chunked and flushed as produced; answers to HEAD and 1xx/204/304 answers carry neither
body nor chunked framing. ``stop()`` closes idle and streaming connections too, so
clients of a stopped server see it gone rather than hang.
"""

from __future__ import annotations

import contextlib
import io
import socket
import ssl
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed import OptExcInfo, WriteableBuffer
    from _typeshed.wsgi import WSGIApplication, WSGIEnvironment

_IDLE_TIMEOUT_SECONDS = 120
_DRAIN_LIMIT_BYTES = 64 * 1024
"""An unread request body up to this size is read off to keep the connection open."""
_MAX_LINE = 65536
_INTERNAL_ERROR = b"internal server error\n"


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


class _Body(io.RawIOBase):
    """A request's body as the app reads it: ``length`` bytes, or (``None``) a chunked body."""

    def __init__(self, rfile: io.BufferedIOBase, length: int | None) -> None:
        self._rfile = rfile
        self.chunked = length is None
        self._left = length or 0
        self.complete = length == 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        if not self._left and not self.complete:  # chunked, at the start of a chunk
            self._left = self._chunk_size()
            self.complete = not self._left
        if self.complete:
            return 0
        view = memoryview(buffer)
        data = self._rfile.read(min(len(view), self._left))
        if not data:
            raise ConnectionAbortedError("the client hung up in the middle of the body")
        view[: len(data)] = data
        self._left -= len(data)
        if not self._left:
            if self.chunked:
                self._rfile.readline(_MAX_LINE)  # the CRLF closing the chunk
            else:
                self.complete = True
        return len(data)

    def _chunk_size(self) -> int:
        line = self._rfile.readline(_MAX_LINE)
        try:
            size = int(line.split(b";", 1)[0], 16)
        except ValueError:
            size = -1
        if size < 0:
            # The framing is lost: nothing after this on the connection can be parsed.
            raise ConnectionAbortedError(f"malformed chunk size line {line[:40]!r}")
        if not size:  # the last chunk: skip any trailer fields
            while self._rfile.readline(_MAX_LINE) not in (b"\r\n", b"\n", b""):
                pass
        return size

    def drain(self, limit: int) -> bool:
        """Read off up to ``limit`` unread bytes; whether the body is complete then."""
        if not self.chunked and self._left > limit:
            return False
        scratch = memoryview(bytearray(limit))
        while not self.complete and limit > 0:
            limit -= self.readinto(scratch[:limit])
        return self.complete


class _Response:
    """One answer: its head goes out with the first body bytes, framed as HTTP allows."""

    def __init__(self, handler: _Handler) -> None:
        self._handler = handler
        self._status: str | None = None
        self._headers: list[tuple[str, str]] = []
        self.started = False
        self.bodyless = False
        self._chunked = False

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and exc_info[1] is not None and self.started:
            raise exc_info[1].with_traceback(exc_info[2])
        self._status, self._headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        out = b"" if self.started else self._head()
        if data and not self.bodyless:
            out += b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data
        if out:
            self._handler.wfile.write(out)

    def begin(self) -> None:
        """Send a streamed answer's head at once: a watch's first event may be long coming."""
        if self._status is not None and "content-length" not in _names(self._headers):
            self.write(b"")

    def end(self) -> None:
        self.write(b"")
        if self._chunked:
            self._handler.wfile.write(b"0\r\n\r\n")

    def fail(self) -> None:
        """Answer 500 for an app that failed before answering, and close after it."""
        self._handler.close_connection = True
        self.start_response(
            "500 Internal Server Error",
            [("Content-Type", "text/plain"), ("Content-Length", str(len(_INTERNAL_ERROR)))],
        )
        self.write(_INTERNAL_ERROR)

    def _head(self) -> bytes:
        if self._status is None:
            raise RuntimeError("the app sent a body before calling start_response")
        handler = self._handler
        code = int(self._status.split(" ", 1)[0])
        # RFC 9112 section 6.3: these answers end at their head, whatever they declare.
        self.bodyless = handler.command == "HEAD" or code < 200 or code in (204, 304)
        lines = [f"{handler.protocol_version} {self._status}"]
        lines += [f"{name}: {value}" for name, value in self._headers]
        lines.append(f"Date: {handler.date_time_string()}")
        if not self.bodyless and "content-length" not in _names(self._headers):
            if handler.request_version == "HTTP/1.1":
                self._chunked = True
                lines.append("Transfer-Encoding: chunked")
            else:  # an HTTP/1.0 client knows no chunks: the body ends with the connection
                handler.close_connection = True
        if handler.close_connection:
            lines.append("Connection: close")
        self.started = True
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _names(headers: list[tuple[str, str]]) -> set[str]:
    return {name.lower() for name, _ in headers}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    timeout = _IDLE_TIMEOUT_SECONDS

    def log_message(self, format: str, *args: Any) -> None:
        """Request logging is the app's business, not the server's."""

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

    def _run(self) -> None:
        body = self._body()
        if body is None:
            self.send_error(400, "Bad request framing")
            return
        response = _Response(self)
        try:
            self._call(body, response)
        except ConnectionError:  # the client left, or the app hung up on it on purpose
            self.close_connection = True
            return
        except Exception:
            traceback.print_exc()  # a bug in the app: say why, and answer if still possible
            if response.started:
                self.close_connection = True  # the client sees the answer cut short
            else:
                response.fail()
            return
        if not body.complete and not body.drain(_DRAIN_LIMIT_BYTES):
            self.close_connection = True

    def _call(self, body: _Body, response: _Response) -> None:
        result = self.server.app(self._environ(body), response.start_response)
        try:
            response.begin()
            for data in result:
                response.write(data)
                if response.bodyless:  # HEAD of a stream, say: nothing more will be sent
                    break
            response.end()
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()

    def _body(self) -> _Body | None:
        """The request body's reader, ``None`` when its framing is not valid."""
        if "Transfer-Encoding" in self.headers:  # it overrides any Content-Length
            if self.headers["Transfer-Encoding"].strip().lower() != "chunked":
                return None
            return _Body(self.rfile, None)
        length = (self.headers.get("Content-Length") or "0").strip()
        return _Body(self.rfile, int(length)) if length.isdigit() else None

    def _environ(self, body: _Body) -> WSGIEnvironment:
        path, _, query = self.path.partition("?")
        host, port = self.server.server_address[:2]
        environ: WSGIEnvironment = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote(path, encoding="latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,  # the target as sent, as werkzeug's server gave it
            "SERVER_NAME": str(host),
            "SERVER_PORT": str(port),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if self.server.context else "http",
            "wsgi.input": io.BufferedReader(body),
            # The input ends where the body does, so apps may read it to the end.
            "wsgi.input_terminated": True,
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            # The same key werkzeug uses: watches poll it to notice a client leaving.
            "werkzeug.socket": self.connection,
        }
        for key, value in self.headers.items():
            if "_" in key:  # it would pass for the dashed header once renamed
                continue
            name = key.upper().replace("-", "_")
            if name == "CONTENT_LENGTH":
                if not body.chunked:
                    environ[name] = value.strip()
            elif name == "CONTENT_TYPE":
                environ[name] = value
            else:
                name = "HTTP_" + name
                environ[name] = f"{environ[name]},{value}" if name in environ else value
        return environ


class ServedApp:
    """A bound server: where it listens, how to serve, how to stop it."""

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
    def url(self) -> str:
        scheme = "https" if self.server.context else "http"
        return f"{scheme}://{self.host}:{self.port}"

    @property
    def open_connections(self) -> int:
        with self.server.connections_lock:
            return len(self.server.connections)

    def serve_forever(self) -> None:
        """Block serving requests (the standalone ``remedy emulate`` mode)."""
        self.server.serve_forever(poll_interval=0.1)

    def start(self, app: WSGIApplication | None = None) -> ServedApp:
        """Serve from a background thread (``app`` instead of the one bound with, when
        the app needs the addresses of servers bound before it could be built)."""
        if app is not None:
            self.server.app = app
        self.thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"http-{self.port}",
            daemon=True,
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, then close every connection, idle and streaming ones too."""
        if self.thread is not None:
            self.server.shutdown()
            self.thread.join(timeout=5)
        self.server.close_connections()
        self.server.server_close()


def make(
    app: WSGIApplication,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    context: ssl.SSLContext | None = None,
) -> ServedApp:
    """Bind ``app`` to ``host:port`` (0 picks a free port), over TLS with ``context``."""
    return ServedApp(_Server((host, port), app, context))


def serve_in_thread(app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> ServedApp:
    return make(app, host=host, port=port).start()
