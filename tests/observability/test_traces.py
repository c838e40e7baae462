"""Traces: each step a span in the trace the webhook started, OpenTelemetry only when asked.

Covers:
- within a step, the traceparent a handler derives for the events it emits is the
  step's own span (for the step's parent, or for the delivery whose trace it roots),
  and only then: another parent, another delivery, or outside a step, a fresh child;
- without OTEL_EXPORTER_OTLP_ENDPOINT no ``opentelemetry`` module is loaded after
  importing every function and serving it a probe and a request (push-intake's through
  Redis: redis-py would load OpenTelemetry's metrics SDK if let; a subprocess starting
  clean); with it, they are, and every function's steps arrive at a collector as spans
  under the function's service name, children of the traceparent they were sent (an
  event type outside the catalogue does not name a span);
- real processes exporting to a collector stand-in over OTLP/HTTP: webhook-gateway's
  span roots the trace its delivery starts (trace id derived from the delivery id) and
  names itself as the parent of the event it forwards; push-intake's span is its child,
  carries task, epoch and outcome, and is the parent named by push-intake's reply; a
  step's log lines carry its trace id.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import requests
from cloudevents.http import from_http

from remedy.events import tracing
from tests.intake.conftest import SECRET, RecordingSink, signed_headers
from tests.knative.support import FUNCTIONS
from tests.observability.conftest import kubeconfig_to
from tests.observability.support import Listener, OtlpReceiver, start_function
from tests.support.events import push_event

PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
OWN = "00-4bf92f3577b34da6a3ce929d0e0e4736-1111111111111111-01"


def test_a_step_names_its_own_span_as_the_parent_of_what_it_emits() -> None:
    with tracing.stepping(tracing.Step(PARENT, "d-1", OWN)):
        assert tracing.child(PARENT, delivery_id="d-1") == OWN
        assert tracing.child(PARENT, delivery_id="another") == OWN  # same parent: same step
        other = tracing.child(PARENT.replace("00f0", "00f1"), delivery_id="d-1")
        assert other != OWN and tracing.trace_id(other) == tracing.trace_id(PARENT)
        assert tracing.start("d-1") != OWN  # the step continues a trace, it roots none
        assert tracing.child(None, delivery_id="d-1") != OWN
    assert tracing.child(PARENT, delivery_id="d-1") != OWN


def test_a_root_step_is_the_start_of_its_delivery_s_trace() -> None:
    own = f"00-{tracing.delivery_trace_id('d-2')}-2222222222222222-01"
    with tracing.stepping(tracing.Step(None, "d-2", own)):
        assert tracing.start("d-2") == own
        assert tracing.child(None, delivery_id="d-2") == own
        assert tracing.child("garbage", delivery_id="d-2") == own
        assert tracing.start("d-3") != own
    with tracing.stepping(tracing.Step(None, None, tracing.fresh())):
        # control-api's and the reconciler's steps root traces of their own; what they
        # send on a delivery's behalf continues that delivery's trace
        assert tracing.trace_id(tracing.start("d-2")) == tracing.delivery_trace_id("d-2")


@pytest.mark.parametrize(
    "traceparent",
    [None, "", "garbage", "00-" + "0" * 32 + "-00f067aa0ba902b7-01",
     "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01"],
)  # fmt: skip
def test_unusable_traceparents_are_not_parents(traceparent: str | None) -> None:
    assert tracing.valid(traceparent) is None


SERVE_EVERY_FUNCTION = textwrap.dedent(
    """
    import json, sys
    from functions_framework import create_app
    from remedy.domain.signatures import sign

    def ce(kind, **more):
        return {"ce-specversion": "1.0", "ce-id": "probe-1", "ce-source": "/test",
                "ce-type": kind, "content-type": "application/json",
                "ce-traceparent": "%(parent)s", **more}

    served = {}
    for name, path in json.loads(sys.argv[1]).items():
        client = create_app(target="handle", source=path).test_client()
        assert client.get("/healthz").status_code == 200, name
        if name == "webhook-gateway":
            body = b'{"zen": "z", "hook_id": 1}'
            answer = client.post("/", data=body, headers={
                "X-GitHub-Event": "ping", "X-GitHub-Delivery": "probe-delivery-1",
                "X-Hub-Signature-256": sign(sys.argv[2].encode(), body),
                "Content-Type": "application/json"})
        elif name == "push-intake":  # Rex's push: through Redis (locks, ledger, push log)
            answer = client.post("/", data=sys.argv[3], headers=ce(
                "dev.knative.source.github.push", **{"ce-source": "https://github.com/o/r"}))
        elif name == "control-api":
            answer = client.get("/v1/tasks")
        else:
            answer = client.post("/", data=b"{}", headers=ce("dev.remedy.test.unknown"))
        served[name] = answer.status_code
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
    print(json.dumps({"served": served, "loaded": loaded}))
    """
) % {"parent": PARENT}


def serve_every_function(env: dict[str, str], workdir: Path) -> dict[str, Any]:
    paths = {name: str(Path("functions") / name / "main.py") for name in FUNCTIONS}
    push = push_event(delivery="probe-push-1", branch="task-12-x", before="a" * 40,
                      after="b" * 40)  # fmt: skip
    argv = [json.dumps(paths), env["WEBHOOK_SECRET"], json.dumps(push.get_data())]
    result = subprocess.run(
        [sys.executable, "-c", SERVE_EVERY_FUNCTION, *argv],
        capture_output=True, text=True, env=env, timeout=120, check=False,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout.splitlines()[-1])
    return found


@pytest.fixture
def function_env(tmp_path: Path, listener: Listener, redis_urls: list[str]) -> dict[str, str]:
    """Every function's settings: Redis for real, every other outside system at a port
    that never answers (the requests served never reach them)."""
    address = f"127.0.0.1:{listener.port}"
    return {
        "PATH": "/usr/bin:/bin",
        "REDIS_URLS": redis_urls[0],
        "KUBECONFIG": str(kubeconfig_to(tmp_path / "kubeconfig", listener.port)),
        "GITHUB_API_URL": f"http://{address}",
        "GITHUB_TOKEN": "ghp_trace_test_token",
        "K_SINK": f"http://{address}",
        "WEBHOOK_SECRET": "trace-test-webhook-secret",
        "REMEDY_API_TOKENS": "operator:trace=trace-test-operator-token",
    }


def test_without_an_endpoint_nothing_of_opentelemetry_is_loaded(
    function_env: dict[str, str], tmp_path: Path
) -> None:
    found = serve_every_function(function_env, tmp_path)
    assert found["served"] == {
        "webhook-gateway": 200, "push-intake": 200, "agent-cancel": 400, "label-update": 400,
        "workflow-resume": 400, "feedback-intake": 400, "control-api": 401, "reconciler": 400,
    }  # fmt: skip
    assert found["loaded"] == []


def test_with_an_endpoint_every_function_exports_its_steps(
    function_env: dict[str, str], tmp_path: Path, receiver: OtlpReceiver
) -> None:
    env = {**function_env, "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
    found = serve_every_function(env, tmp_path)  # the process flushes its spans as it exits
    assert "opentelemetry.sdk.trace" in found["loaded"]
    for function in FUNCTIONS:
        (span,) = receiver.of(function)
        assert span.attributes["remedy.outcome"] in ("done", "replied", "rejected")
        if function not in ("webhook-gateway", "control-api", "push-intake", "reconciler"):
            assert span.name == "process", "a type not in the catalogue names no span"
        if function not in ("webhook-gateway", "control-api"):
            assert span.parent_id == PARENT.split("-")[2], function
            assert span.trace_id == PARENT.split("-")[1], function
    assert set(receiver.paths) == {"/v1/traces"}


def test_spans_arrive_with_the_webhook_s_trace_as_parent(
    tmp_path: Path,
    redis_urls: list[str],
    sink: tuple[RecordingSink, Any],
    receiver: OtlpReceiver,
) -> None:
    tracing_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url, "OTEL_BSP_SCHEDULE_DELAY": "50",
                   "REMEDY_LOG_FORMAT": "json"}  # fmt: skip
    gateway = start_function(
        "webhook-gateway", {**tracing_env, "WEBHOOK_SECRET": SECRET, "K_SINK": sink[1].url},
        tmp_path,
    )  # fmt: skip
    intake = start_function("push-intake", {**tracing_env, "REDIS_URLS": redis_urls[0]}, tmp_path)
    try:
        delivery = "5d0e8c9a-0d4b-11f0-8a7e-0242ac120002"
        push = push_event(delivery=delivery, branch="task-12-fix", before="a" * 40,
                          after="b" * 40)  # fmt: skip
        body = json.dumps(push.get_data()).encode()
        answer = requests.post(
            gateway.url, data=body, headers=signed_headers(body, event="push", delivery=delivery),
            timeout=10,
        )  # fmt: skip
        assert answer.status_code == 202, answer.text
        ((headers, data),) = sink[0].requests
        replied = requests.post(intake.url, data=data, headers=headers, timeout=10)
        assert replied.status_code == 200, replied.text
        reply = from_http(dict(replied.headers), replied.content)

        (root,) = receiver.wait_for("webhook-gateway")
        (step,) = receiver.wait_for("push-intake")
    finally:
        gateway.stop()
        intake.stop()

    assert root.parent_id is None and root.trace_id == tracing.delivery_trace_id(delivery)
    assert root.name == "webhook" and root.attributes["remedy.outcome"] == "done"
    assert headers["ce-traceparent"].split("-")[1:3] == [root.trace_id, root.span_id]

    assert (step.trace_id, step.parent_id) == (root.trace_id, root.span_id)
    assert step.name == "process dev.knative.source.github.push"
    assert step.attributes["remedy.outcome"] == "replied"
    assert step.attributes["remedy.task"] == 12
    assert step.attributes["remedy.epoch"] == int(reply["epoch"])
    assert step.attributes["cloudevents.event_id"] == delivery
    assert step.attributes["http.response.status_code"] == 200
    # the next function's span will be the child of push-intake's
    assert reply["traceparent"].split("-")[1:3] == [step.trace_id, step.span_id]

    for process, span in ((gateway, root), (intake, step)):
        lines = [json.loads(line) for line in process.lines() if line.startswith("{")]
        assert lines and {line["trace_id"] for line in lines} == {span.trace_id}
