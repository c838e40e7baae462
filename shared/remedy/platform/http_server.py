"""Serve a WSGI app on a loopback port from a background thread.

The emulators and the local broker are plain WSGI apps; this runs one in-process
(for tests, ``remedy up``) or in the foreground (for ``remedy emulate ...``). The
threaded werkzeug server speaks HTTP/1.1, so keep-alive and chunked watch streams
behave as the real clients expect.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication


class _QuietHandler(WSGIRequestHandler):
    """Request logging is the app's business, not the server's."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


@dataclass
class ServedApp:
    """A running server: its base URL and how to stop it."""

    server: BaseWSGIServer
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def host(self) -> str:
        return str(self.server.host)

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def serve_forever(self) -> None:
        """Block serving requests (the standalone ``remedy emulate`` mode)."""
        self.server.serve_forever(poll_interval=0.1)


def make(app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> ServedApp:
    """Bind ``app`` to ``host:port`` (0 picks a free port) without serving yet."""
    server = make_server(host, port, app, threaded=True, request_handler=_QuietHandler)
    server.daemon_threads = True  # type: ignore[attr-defined]  # ThreadingMixIn's
    return ServedApp(server=server)


def serve_in_thread(app: WSGIApplication, *, host: str = "127.0.0.1", port: int = 0) -> ServedApp:
    served = make(app, host=host, port=port)
    thread = threading.Thread(
        target=served.server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"http-{served.port}",
        daemon=True,
    )
    thread.start()
    served.thread = thread
    return served
