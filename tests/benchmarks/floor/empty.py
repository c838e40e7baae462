"""An empty function in the shape of remedy's: the floor under cold starts and the cold chain.

Served like remedy's functions (functions-framework, ``http`` signature, ``GET /healthz``
for the readiness probe), it does no work: no event parsing beyond its headers, no
Redis, Kubernetes or GitHub. It only keeps the chain's topology, so a chain of empty
functions routed by the real Triggers makes the same hops as remedy's (``K_SERVICE``
says which function it stands in for):

- webhook-gateway: forwards the webhook to ``K_SINK`` as a push CloudEvent, answers 202;
- push-intake, agent-cancel, label-update: reply with the event the real one replies
  with (remediation requested, agents cancelled, labels updated);
- agent-cancel also has the cancelled agent acknowledge, as remedy's simulated Cleo
  does after seeing the cancellation request: a POST to ``FLOOR_ACK_URL`` (control-api),
  sent from a thread after the reply, when that variable is set;
- control-api: takes the acknowledgement and sends "agents stopped" to ``K_SINK``;
- every other request: 202, nothing follows (workflow-resume, the reconciler, ...).

Only the standard library's ``http.client`` sends (functions-framework loads it anyway).
"""

from __future__ import annotations

import http.client
import os
import threading
from urllib.parse import urlsplit

import flask

SERVICE = os.environ.get("K_SERVICE", "")
REPLIES = {
    "push-intake": "dev.remedy.remediation.requested",
    "agent-cancel": "dev.remedy.agents.cancelled",
    "label-update": "dev.remedy.labels.updated",
}


def handle(request: flask.Request) -> flask.Response:
    if request.path.rstrip("/") == "/healthz":
        return flask.Response(b'{"status": "ok"}', status=200, mimetype="application/json")
    body = request.get_data()
    correlation = request.headers.get("ce-correlationid") or request.headers.get("ce-id", "")
    if SERVICE == "webhook-gateway":
        delivery = request.headers.get("X-GitHub-Delivery", "")
        kind = request.headers.get("X-GitHub-Event", "")
        _send(os.environ["K_SINK"], f"dev.knative.source.github.{kind}", delivery, delivery, body)
        return flask.Response(b"", status=202)
    if SERVICE == "control-api":
        correlation = request.headers.get("X-Floor-Correlation", "")
        stopped = f"{correlation}:agents.stopped"
        _send(os.environ["K_SINK"], "dev.remedy.agents.stopped", stopped, correlation, b"{}")
        return flask.Response(b"{}", status=200, mimetype="application/json")
    reply = REPLIES.get(SERVICE)
    if reply is None:
        return flask.Response(b"", status=202)
    if SERVICE == "agent-cancel" and os.environ.get("FLOOR_ACK_URL"):
        ack = threading.Thread(target=_acknowledge, args=(os.environ["FLOOR_ACK_URL"], correlation))
        ack.start()
    step = reply.removeprefix("dev.remedy.")
    headers = _event_headers(reply, f"{correlation}:{step}", correlation)
    return flask.Response(b"{}", status=200, headers=headers)


def _event_headers(kind: str, event_id: str, correlation: str) -> dict[str, str]:
    return {
        "ce-specversion": "1.0",
        "ce-type": kind,
        "ce-source": f"/remedy/{SERVICE}",
        "ce-id": event_id,
        "ce-correlationid": correlation,
        "Content-Type": "application/json",
    }


def _post(url: str, headers: dict[str, str], body: bytes) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    try:
        connection.request("POST", parts.path or "/", body=body, headers=headers)
        connection.getresponse().read()
    finally:
        connection.close()


def _send(sink: str, kind: str, event_id: str, correlation: str, body: bytes) -> None:
    _post(sink, _event_headers(kind, event_id, correlation), body)


def _acknowledge(url: str, correlation: str) -> None:
    _post(url + "/v1/floor/ack", {"X-Floor-Correlation": correlation}, b"")
