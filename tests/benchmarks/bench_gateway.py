"""webhook-gateway acknowledgement latency at 200 requests/s (target p99 <= 50 ms).

The gateway runs as on Knative — functions-framework (gunicorn) in its own process —
verifying signatures and forwarding each event to a broker ingress that accepts it,
so the figure includes the forward GitHub waits for.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import requests

from remedy.domain.signatures import sign
from remedy.local import functions
from remedy.local.http_server import serve_in_thread
from remedy.local.ports import free_port
from remedy.local.processes import Supervisor
from tests.benchmarks.load import open_loop, summary_ms, target

RATE = 200
COUNT = 2000
SECRET = "bench-secret"


def _accepting_sink(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("202 Accepted", [("Content-Length", "0")])
    return [b""]


def run() -> dict[str, Any]:
    sink = serve_in_thread(_accepting_sink)  # type: ignore[arg-type]
    supervisor = Supervisor(out=open("/dev/null", "w"))  # noqa: SIM115
    port = free_port()
    try:
        child = supervisor.start(
            "webhook-gateway",
            functions.argv("webhook-gateway", port=port),
            env={"WEBHOOK_SECRET": SECRET, "K_SINK": sink.url},
        )
        supervisor.wait_listening(child, "127.0.0.1", port)
        url = f"http://127.0.0.1:{port}/"
        local = threading.local()
        body = json.dumps(
            {"ref": "refs/heads/task-1-x", "repository": {"full_name": "o/r", "name": "r"}}
        ).encode()
        headers = {
            "X-GitHub-Event": "push",
            "X-Hub-Signature-256": sign(SECRET.encode(), body),
            "Content-Type": "application/json",
        }

        def send(index: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            response = session.post(
                url, data=body, headers={**headers, "X-GitHub-Delivery": f"bench-{index}"}
            )
            if response.status_code != 202:
                raise RuntimeError(response.status_code)

        open_loop(rate_per_s=RATE, count=200, send=lambda i: send(COUNT + i))  # warm up
        latencies, errors = open_loop(rate_per_s=RATE, count=COUNT, send=send)
    finally:
        supervisor.stop_all()
        sink.stop()
    stats = summary_ms(latencies)
    return {
        "rate_per_s": RATE,
        "requests": COUNT,
        "errors": errors,
        "ack_latency": stats,
        "p99_target": target(stats["p99_ms"], 50.0),
    }
