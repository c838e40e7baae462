"""A remediation on the local platform, traced and logged as the deployment does it.

``remedy up --demo`` runs with ``REMEDY_LOG_FORMAT=json`` and an OTLP endpoint (a
collector stand-in in this test); the demo's push goes in as a signed webhook, the way
the README says (``remedy invoke webhook``).

Covers:
- every step of the remediation arrives as a span in the one trace the webhook's
  delivery started: webhook-gateway's is its root; push-intake's is the gateway's child;
  agent-cancel's and label-update's are push-intake's children; workflow-resume's
  answer to label-update is label-update's child, and some workflow-resume step
  resumed the workflow; every chain span names its task and epoch and its outcome;
- every line each function printed is one JSON object with the log fields, and the
  lines of the demo's delivery carry its trace id.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest

from remedy import logs
from remedy.events import catalogue, tracing
from tests.e2e.process import REMEDY, Up, start_up
from tests.knative.support import FUNCTIONS
from tests.observability.support import OtlpReceiver, ReceivedSpan, otlp_receiver
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

DELIVERY = "observability-demo-1"
TASK = 12


@pytest.fixture(scope="module")
def collector() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as started:
        yield started


@pytest.fixture(scope="module")
def traced_demo(tmp_path_factory: pytest.TempPathFactory, collector: OtlpReceiver) -> Iterator[Up]:
    env = {
        "REMEDY_LOG_LEVEL": "INFO",
        "REMEDY_LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    up = start_up(tmp_path_factory.mktemp("up-traced"), "--demo", env=env)
    invoke = ["invoke", "webhook", "--event", "push", "--file", up.state["demo"]["push_file"]]
    options = ["--wait", "0", "--state-file", str(up.state_file), "--id", DELIVERY]
    sent = subprocess.run(
        [*REMEDY, *invoke, *options], capture_output=True, text=True, timeout=30, check=False
    )
    assert sent.returncode == 0, sent.stdout + sent.stderr
    yield up
    up.stop()


def _resumed(collector: OtlpReceiver) -> list[ReceivedSpan] | None:
    spans = collector.of("workflow-resume")
    done = [s for s in spans if s.attributes.get("remedy.reply_type") == catalogue.WORKFLOW_RESUMED]
    return done or None


def test_every_step_is_a_span_in_the_webhook_s_trace(
    traced_demo: Up, collector: OtlpReceiver
) -> None:
    eventually(lambda: _resumed(collector), timeout=60, every=0.2, what="the resume's span",
               describe=lambda: collector.spans)  # fmt: skip
    trace = tracing.delivery_trace_id(DELIVERY)
    ours = [span for span in collector.spans if span.trace_id == trace]

    def one(service: str, name: str) -> ReceivedSpan:
        found = [s for s in ours if s.service == service and s.name == name]
        assert len(found) == 1, (service, name, ours)
        return found[0]

    root = one("webhook-gateway", "webhook")
    intake = one("push-intake", f"process {catalogue.PUSH}")
    cancel = one("agent-cancel", f"process {catalogue.REMEDIATION_REQUESTED}")
    labels = one("label-update", f"process {catalogue.REMEDIATION_REQUESTED}")
    joined = one("workflow-resume", f"process {catalogue.LABELS_UPDATED}")
    assert root.parent_id is None
    assert intake.parent_id == root.span_id
    assert cancel.parent_id == labels.parent_id == intake.span_id
    assert joined.parent_id == labels.span_id
    epoch = intake.attributes["remedy.epoch"]
    for span in (intake, cancel, labels, joined):
        assert span.attributes["remedy.task"] == TASK, span
        assert span.attributes["remedy.epoch"] == epoch, span
        assert span.attributes["remedy.outcome"] in ("replied", "acknowledged"), span
    (resumed,) = _resumed(collector) or []
    assert resumed.trace_id == trace and resumed.attributes["remedy.epoch"] == epoch


def test_every_function_line_is_json_with_the_trace(
    traced_demo: Up, collector: OtlpReceiver
) -> None:
    eventually(lambda: _resumed(collector), timeout=60, every=0.2, what="the resume's span")
    trace = tracing.delivery_trace_id(DELIVERY)
    text = (traced_demo.workdir / "up.log").read_text(errors="replace")
    seen: dict[str, int] = {}
    for line in text.split("\n")[:-1]:  # the last piece may be a line being written
        name, bar, printed = line.partition(" | ")
        if not bar or name.strip() not in FUNCTIONS:
            continue
        entry = json.loads(printed)
        assert list(entry)[: len(logs.JSON_FIELDS)] == list(logs.JSON_FIELDS), entry
        assert entry["function"] == name.strip()
        if entry["delivery_id"] == DELIVERY:
            assert entry["trace_id"] == trace, entry
            seen[entry["function"]] = seen.get(entry["function"], 0) + 1
    assert {"webhook-gateway", "push-intake", "agent-cancel", "label-update"} <= set(seen)
