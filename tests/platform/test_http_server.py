"""The local platform's HTTP server: keep-alive, framing, request bodies, errors, stopping.

Covers: requests on one connection answered in turn; answers without Content-Length
chunked, their head sent before a stream's first bytes and each piece as produced;
HEAD, 204 and 304 answers with neither body nor chunked framing, so the next answer on
the connection still parses; an app calling start_response lazily; chunked request
bodies read to their end; an unread small body read off (connection kept) and an unread
large one closing the connection after the answer; HTTP/1.0 answers ending with the
connection; bad framing → 400; a failing app → 500 and the connection closed; a
stopped server closing its idle keep-alive connections.
"""

from __future__ import annotations

import http.client
import queue
import socket
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import pytest

from remedy.local.http_server import ServedApp, serve_in_thread

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

Serve = Callable[["WSGIApplication"], ServedApp]


@pytest.fixture
def serve() -> Iterator[Serve]:
    started: list[ServedApp] = []

    def start(app: WSGIApplication) -> ServedApp:
        started.append(serve_in_thread(app))
        return started[-1]

    yield start
    for served in started:
        served.stop()


class Echo:
    """Answers with the request body (read to its end) and notes each request's peer."""

    def __init__(self) -> None:
        self.peers: list[tuple[str, int]] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        self.peers.append(environ["werkzeug.socket"].getpeername())
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]


def _connect(served: ServedApp) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(served.host, served.port, timeout=10)


def _raw(served: ServedApp) -> socket.socket:
    return socket.create_connection((served.host, served.port), timeout=10)


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    received = b""
    while data := sock.recv(65536):
        received += data
    return received


def test_one_connection_carries_many_requests(serve: Serve) -> None:
    echo = Echo()
    served = serve(echo)
    connection = _connect(served)
    for n in range(3):
        connection.request("POST", "/", body=b"x" * n)
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"x" * n)
        assert not response.will_close
    assert len(set(echo.peers)) == 1
    assert served.open_connections == 1
    connection.close()


def test_streams_are_chunked_and_flushed_as_produced(serve: Serve) -> None:
    pieces: queue.Queue[bytes | None] = queue.Queue()

    def stream(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return iter(pieces.get, None)

    connection = _connect(serve(stream))
    connection.request("GET", "/watch")
    response = connection.getresponse()  # the head came before any piece was produced
    assert response.getheader("Transfer-Encoding") == "chunked"
    pieces.put(b'{"n": 1}\n')
    assert response.read1() == b'{"n": 1}\n'
    pieces.put(b'{"n": 2}\n')
    pieces.put(None)
    assert response.read() == b'{"n": 2}\n'
    connection.request("GET", "/again")
    pieces.put(None)
    assert connection.getresponse().read() == b""


@pytest.mark.parametrize(
    ("method", "status"),
    [("GET", "204 No Content"), ("GET", "304 Not Modified"), ("HEAD", "200 OK")],
)
@pytest.mark.parametrize("length", [None, "5"])
def test_bodyless_answers_carry_no_body_or_framing(
    serve: Serve, method: str, status: str, length: str | None
) -> None:
    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/next":
            start_response("200 OK", [("Content-Length", "6")])
            return [b"second"]
        start_response(status, [("Content-Length", length)] if length else [])
        return [b"hello"]

    sock = _raw(serve(app))
    sock.sendall(f"{method} /first HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    sock.sendall(b"GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    first, _, rest = _until_closed(sock).partition(b"\r\n\r\n")
    assert first.startswith(f"HTTP/1.1 {status}\r\n".encode())
    assert b"transfer-encoding" not in first.lower()
    assert rest.startswith(b"HTTP/1.1 ")  # the next answer follows the head directly
    assert rest.endswith(b"second")


def test_start_response_may_come_with_the_first_piece(serve: Serve) -> None:
    def lazy(environ: WSGIEnvironment, start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Length", "2")])
        yield b"ok"

    connection = _connect(serve(lazy))
    connection.request("GET", "/")
    assert connection.getresponse().read() == b"ok"


def test_chunked_request_bodies_are_read_to_their_end(serve: Serve) -> None:
    echo = Echo()
    sock = _raw(serve(echo))
    sock.sendall(
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5\r\nhello\r\n6;name=value\r\n world\r\n0\r\nTrailer: t\r\n\r\n"
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc"
    )
    answers = _until_closed(sock)
    assert answers.count(b"HTTP/1.1 200 OK") == 2
    assert b"\r\n\r\nhello world" in answers
    assert answers.endswith(b"\r\n\r\nabc")
    assert len(set(echo.peers)) == 1


def _refuse(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    """Answers 413 without reading the body."""
    start_response("413 Content Too Large", [("Content-Length", "0")])
    return []


def test_a_small_unread_body_is_read_off_and_the_connection_kept(serve: Serve) -> None:
    served = serve(_refuse)
    connection = _connect(served)
    for _ in range(2):
        connection.request("POST", "/", body=b"x" * 1000)
        response = connection.getresponse()
        assert (response.status, response.read()) == (413, b"")
    assert served.open_connections == 1
    connection.close()


def test_a_large_unread_body_closes_the_connection_after_the_answer(serve: Serve) -> None:
    sock = _raw(serve(_refuse))
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n")
    assert _until_closed(sock).startswith(b"HTTP/1.1 413 ")  # no body was ever sent


def test_http_1_0_answers_end_with_the_connection(serve: Serve) -> None:
    def stream(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        start_response("200 OK", [])
        return [b"one ", b"two"]

    sock = _raw(serve(stream))
    sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = _until_closed(sock).partition(b"\r\n\r\n")
    assert b"chunked" not in head
    assert body == b"one two"


@pytest.mark.parametrize(
    "framing", [b"Content-Length: many\r\n", b"Transfer-Encoding: gzip\r\n"], ids=["cl", "te"]
)
def test_bad_framing_is_400(serve: Serve, framing: bytes) -> None:
    sock = _raw(serve(Echo()))
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n")
    assert _until_closed(sock).startswith(b"HTTP/1.1 400 ")


def test_a_failing_app_gets_500_and_the_connection_closes(
    serve: Serve, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        raise RuntimeError("a bug")

    connection = _connect(serve(failing))
    connection.request("GET", "/")
    response = connection.getresponse()
    assert (response.status, response.will_close) == (500, True)
    assert response.read() == b"internal server error\n"
    assert "RuntimeError: a bug" in capsys.readouterr().err


def test_stopping_closes_idle_connections(serve: Serve) -> None:
    served = serve(Echo())
    sock = _raw(served)
    sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nok")
    assert sock.recv(65536).endswith(b"\r\n\r\nok")
    served.stop()
    assert sock.recv(65536) == b""
