"""What one hop of the chain costs when the function does nothing: the CPU floor.

A remediation is eight CloudEvent deliveries to functions (webhook-gateway,
push-intake, agent-cancel, label-update, control-api's ack, workflow-resume three times:
agents cancelled, labels updated, agents stopped), each
one an HTTP request that functions-framework (gunicorn, Flask, the cloudevents SDK)
parses and answers. This measures that fixed cost with a function that ignores its
event (``floor/main.py``), over kept-alive connections: CPU of the serving process and
of the sending one, per request. Multiplied by the deliveries a remediation needs and
by 20 remediations in flight on this machine's CPUs, it is the mean latency at
concurrency 20 that even a remedy whose own code took no time could not beat; the
requests a remediation makes one after another, times a no-op round trip, are the
floor of its latency at concurrency 1. The function processes' own share of a
remediation's floor is a serving side per delivery plus a sending side for each event
a function sends itself (webhook-gateway's and control-api's, to the broker): what
remedy's functions' CPU is held against (bench_remediation).

Measured once per run (:func:`measured`), so bench_remediation's ratios use the very
figures this reports.
"""

from __future__ import annotations

import functools
import io
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests

from remedy.local.ports import free_port
from remedy.local.processes import Supervisor
from tests.benchmarks.load import summary_ms
from tests.support.cpu import cpu_seconds

SOURCE = Path(__file__).parent / "floor" / "main.py"
DELIVERIES_PER_REMEDIATION = 8
SERIAL_REQUESTS = 7
"""HTTP requests one after another on a remediation's critical path: the webhook to the
gateway, the gateway to the broker, the broker to push-intake and to agent-cancel, the
agent's ack to control-api, control-api's event to the broker, the broker to
workflow-resume (label-update runs alongside agent-cancel and the ack; a reply re-enters
the broker inside the delivery that carried it) — before any Redis, Kubernetes or
GitHub call."""
FUNCTION_SENDS = 2
"""Events a function sends itself per remediation: webhook-gateway's push, control-api's
"agents stopped" (the others reply, inside the delivery)."""
WARM_UP, MEASURED = 300, 3000
CONCURRENCY, TARGET_P50_MS = 20, 30.0
HEADERS = {
    "ce-specversion": "1.0",
    "ce-type": "dev.remedy.remediation.requested",
    "ce-source": "/remedy/push-intake",
    "ce-id": "floor-1",
    "Content-Type": "application/json",
}
BODY = b'{"task_id": 1, "repository": "5dlabs/cto", "epoch": 1}'


def run() -> dict[str, Any]:
    return measured()


@functools.cache
def measured() -> dict[str, Any]:
    """The floor, measured on the first call of a run and the same figures after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    supervisor = Supervisor(out=io.StringIO())
    session = requests.Session()
    try:
        server = supervisor.start(
            "floor-function",
            [
                sys.executable, "-m", "functions_framework",
                "--source", str(SOURCE), "--target", "handle",
                "--signature-type", "cloudevent", "--host", "127.0.0.1", "--port", str(port),
            ],
        )  # fmt: skip
        supervisor.wait_listening(server, "127.0.0.1", port)
        for _ in range(WARM_UP):
            session.post(url, data=BODY, headers=HEADERS).raise_for_status()
        served_before, sent_before = cpu_seconds(server.proc.pid), time.process_time()
        latencies = []
        for _ in range(MEASURED):
            began = time.perf_counter()
            session.post(url, data=BODY, headers=HEADERS).raise_for_status()
            latencies.append(time.perf_counter() - began)
        sent = (time.process_time() - sent_before) * 1000 / MEASURED
        served = (cpu_seconds(server.proc.pid) - served_before) * 1000 / MEASURED
    finally:
        session.close()
        supervisor.stop_all()
    per_hop = served + sent
    cpus = os.cpu_count() or 1
    floor = CONCURRENCY * DELIVERIES_PER_REMEDIATION * per_hop / cpus
    round_trip = summary_ms(latencies)
    return {
        "noop_cloudevent_round_trip": round_trip,
        "cpu_ms_per_hop": {
            "serving": round(served, 3),
            "sending": round(sent, 3),
            "total": round(per_hop, 3),
        },
        "deliveries_per_remediation": DELIVERIES_PER_REMEDIATION,
        "floor_cpu_ms_per_remediation": round(DELIVERIES_PER_REMEDIATION * per_hop, 2),
        "function_sends_per_remediation": FUNCTION_SENDS,
        "floor_function_cpu_ms_per_remediation": round(
            DELIVERIES_PER_REMEDIATION * served + FUNCTION_SENDS * sent, 2
        ),
        "floor_mean_ms_at_20": round(floor, 1),
        "target_p50_ms_at_20": TARGET_P50_MS,
        "serial_requests_per_remediation": SERIAL_REQUESTS,
        "floor_latency_ms_at_1": round(SERIAL_REQUESTS * round_trip["p50_ms"], 1),
        "method": "a functions-framework CloudEvent function that ignores its event, "
        f"{MEASURED} binary-mode POSTs one at a time over one kept-alive connection; "
        "floor = 20 in flight x deliveries per remediation x CPU per hop / CPUs (no "
        "broker, no Redis, no Kubernetes or GitHub call, no work: a lower bound)",
    }
