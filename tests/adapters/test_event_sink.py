"""The broker sink: binary-mode CloudEvents over HTTP, and a SinkError for anything else
than a 2xx — a refused, unreachable or slow broker never reads as "sent"."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from remedy.adapters.event_sink import HttpEventSink
from remedy.local.http_server import ServedApp, make
from remedy.ports import SinkError


class Broker:
    """A WSGI ingress answering ``status`` and keeping what it was sent."""

    def __init__(self) -> None:
        self.status = "202 Accepted"
        self.body = b""
        self.seen: list[tuple[dict[str, str], bytes]] = []
        self.release = threading.Event()
        self.release.set()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items()
                   if k.startswith("HTTP_")}  # fmt: skip
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        self.seen.append((headers, environ["wsgi.input"].read(length)))
        self.release.wait(timeout=10)
        start_response(self.status, [("Content-Length", str(len(self.body)))])
        return [self.body]


@pytest.fixture
def broker() -> Iterator[tuple[Broker, ServedApp]]:
    app = Broker()
    served = make(app).start()
    try:
        yield app, served
    finally:
        app.release.set()
        served.stop()


def _event() -> CloudEvent:
    return CloudEvent(
        {
            "type": "dev.remedy.test",
            "source": "/remedy/test",
            "id": "e-1",
            "taskid": "7",
            "datacontenttype": "application/json",
        },
        {"task_id": 7},
    )


def test_an_event_goes_out_in_binary_mode(broker: tuple[Broker, ServedApp]) -> None:
    app, served = broker
    HttpEventSink(served.url).send(_event())
    headers, body = app.seen[0]
    assert headers["ce-id"] == "e-1" and headers["ce-type"] == "dev.remedy.test"
    assert headers["ce-taskid"] == "7"
    assert headers["content-type"] == "application/json"
    assert body == b'{"task_id": 7}'


def test_a_refusal_is_an_error_with_the_brokers_words(broker: tuple[Broker, ServedApp]) -> None:
    app, served = broker
    app.status, app.body = "503 Service Unavailable", b"ingress not ready " + b"x" * 500
    with pytest.raises(SinkError, match=r"the broker answered 503: ingress not ready x+$") as err:
        HttpEventSink(served.url).send(_event())
    assert err.value.status == 503
    assert len(str(err.value)) < 250


def test_a_redirect_is_not_followed(broker: tuple[Broker, ServedApp]) -> None:
    app, served = broker
    app.status = "307 Temporary Redirect"
    with pytest.raises(SinkError, match="answered 307"):
        HttpEventSink(served.url).send(_event())
    assert len(app.seen) == 1


def test_an_unreachable_broker_is_an_error() -> None:
    with pytest.raises(SinkError, match="posting to the broker") as err:
        HttpEventSink("http://127.0.0.1:9").send(_event())
    assert err.value.status is None


def test_a_broker_slower_than_the_timeout_is_an_error(broker: tuple[Broker, ServedApp]) -> None:
    app, served = broker
    app.release.clear()
    with pytest.raises(SinkError, match="Timeout"):
        HttpEventSink(served.url, timeout_s=0.2).send(_event())


@pytest.mark.parametrize("url", ["", "ftp://broker", "broker.local/ingress"])
def test_k_sink_must_be_http(url: str) -> None:
    with pytest.raises(ValueError, match="K_SINK"):
        HttpEventSink(url)
