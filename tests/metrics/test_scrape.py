"""``GET /metrics`` on every function, and what the HTTP edges record, as served by
functions-framework (in this process: the functions share its registry, so each test
reads what moved).

Covers:
- every function answers ``GET`` (and ``HEAD``) on ``/metrics`` with the Prometheus text
  format that prometheus_client's parser reads, holding every remedy metric family;
  without any configuration (the scrape builds nothing: ``/healthz`` says 503 then) and
  without calling anything; other methods get 405; ``/metrics/x`` and every other path
  keep the answer they had; a scrape is no step (nothing counted, nothing logged);
- each edge times its step by function and a bounded step label, with the outcome it
  answered: a CloudEvent by its catalogued type (``other`` for any other type), the
  webhook, control-api's route templates (``other`` for an unknown path, ``OTHER`` for
  an unknown method), the reconciler's dead letters;
- control-api counts each acknowledgement by its status, and only acknowledgements;
- the reconciler counts a dead letter by why the Broker gave it up and its type;
- a metric that cannot be recorded never changes the step's answer.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from remedy import metrics
from remedy.events import catalogue
from tests.knative.support import FUNCTIONS
from tests.metrics.samples import key, moved, parse, registry, total
from tests.observability.support import serve
from tests.support.events import post

ACK = "POST /v1/coderuns/{namespace}/{name}/cancellation/ack"
SETTINGS = ("REDIS_URLS", "KUBECONFIG", "GITHUB_API_URL", "GITHUB_TOKEN", "K_SINK",
            "WEBHOOK_SECRET", "REMEDY_API_TOKENS")  # fmt: skip
OTHER_PATHS = {
    # what each answered for a path it does not serve before /metrics existed
    "webhook-gateway": {"GET /nope": 405, "POST /metrics/x": 401},
    "push-intake": {"GET /nope": 405, "GET /metrics/x": 405},
    "control-api": {"GET /nope": 404, "GET /metrics/x": 404},
    "reconciler": {"GET /nope": 404, "GET /metrics/x": 404},
}


NOT_REX = {
    "ref": "refs/heads/task-12-x",
    "before": "1" * 40,
    "after": "2" * 40,
    "pusher": {"name": "someone"},
    "sender": {"login": "someone"},
    "repository": {"full_name": "5dlabs/cto", "name": "cto", "pushed_at": 1},
}
"""A push by someone who is not Rex: push-intake acknowledges it without calling anything."""


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_function_serves_its_metrics_without_configuration(
    function: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    client = serve(function)
    caplog.set_level(logging.DEBUG)
    before = registry()
    answer = client.get("/metrics")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = {name for name, _ in parse(answer.get_data(as_text=True))}
    for metric in metrics.METRICS:
        assert any(n.startswith(str(metric._name)) for n in families) or metric._labelnames
    assert "process_start_time_seconds" in families
    assert client.head("/metrics").status_code == 200
    assert client.get("/metrics/").status_code == 200
    assert moved(before, registry()) == {}, "a scrape is no step"
    assert [r for r in caplog.records if r.name.startswith("remedy")] == []
    assert client.get("/healthz").status_code == 503  # the scrape built nothing
    refused = client.post("/metrics", data=b"{}")
    assert refused.status_code == 405
    assert refused.get_json()["error"] == "method_not_allowed"


@pytest.mark.parametrize("function", sorted(OTHER_PATHS))
def test_other_paths_keep_their_answers(function: str, unreachable: dict[str, str]) -> None:
    client = serve(function)
    for request, status in OTHER_PATHS[function].items():
        method, path = request.split(" ")
        assert client.open(path, method=method).status_code == status, request


def _event(kind: str, data: dict[str, Any], event_id: str = "metrics-1") -> CloudEvent:
    attributes = {"type": kind, "source": "https://github.com/5dlabs/cto", "id": event_id}
    return CloudEvent(attributes, data)


def test_a_cloudevent_step_is_timed_by_its_type_with_its_outcome(
    unreachable: dict[str, str],
) -> None:
    client = serve("push-intake")
    before = registry()
    assert post(client, _event(catalogue.PUSH, NOT_REX)).status_code == 202
    hostile = "dev.remedy." + "ab12" * 10
    assert post(client, _event(hostile, NOT_REX, event_id="e" * 40)).status_code == 400
    assert moved(before, registry()) == {
        key("remedy_steps_total", function="push-intake", step=catalogue.PUSH,
            outcome="acknowledged"): 1,
        key("remedy_step_duration_seconds_count", function="push-intake",
            step=catalogue.PUSH): 1,
        key("remedy_steps_total", function="push-intake", step="other", outcome="rejected"): 1,
        key("remedy_step_duration_seconds_count", function="push-intake", step="other"): 1,
    }  # fmt: skip


def test_the_webhook_is_one_step(unreachable: dict[str, str]) -> None:
    before = registry()
    answer = serve("webhook-gateway").post("/", data=b"{}", headers={"X-GitHub-Event": "push"})
    assert answer.status_code == 401
    step = {"function": "webhook-gateway", "step": "webhook"}
    assert moved(before, registry()) == {
        key("remedy_steps_total", **step, outcome="rejected"): 1,
        key("remedy_step_duration_seconds_count", **step): 1,
    }


def test_control_api_times_routes_and_counts_acknowledgements(unreachable: dict[str, str]) -> None:
    client = serve("control-api")
    sha = "f" * 40
    before = registry()
    assert (
        client.post(f"/v1/coderuns/agent-platform/cleo-{sha}/cancellation/ack").status_code == 401
    )
    assert client.get(f"/v1/tasks/{sha}").status_code == 401
    assert client.open("/v1/tasks", method="BREW").status_code == 405
    assert client.get(f"/v1/{sha}").status_code == 404
    changed = moved(before, registry())
    assert changed[key("remedy_acknowledgements_total", result="401")] == 1
    assert total(changed, "remedy_acknowledgements_total") == 1, "only the ack is one"
    steps = {dict(labels)["step"]: v for labels, v in
             ((k[1], v) for k, v in changed.items() if k[0] == "remedy_steps_total")}  # fmt: skip
    assert steps == {ACK: 1, "GET /v1/tasks/{task_id}": 1, "OTHER /v1/tasks": 1, "other": 1}
    assert total(changed, "remedy_steps_total", outcome="rejected") == 4


def test_the_reconciler_counts_each_dead_letter_once(unreachable: dict[str, str]) -> None:
    client = serve("reconciler")
    letter = _event(catalogue.LABELS_UPDATED, {"note": "no task here"}, event_id="dl-1")
    letter["knativeerrorcode"] = "422"
    before = registry()
    assert post(client, letter, "/dead-letter").status_code == 202
    letter["knativeerrorcode"] = "503"
    letter["id"] = "dl-2"
    assert post(client, letter, "/dead-letter").status_code == 202
    step = {"function": "reconciler", "step": "dead-letter"}
    assert moved(before, registry()) == {
        key("remedy_dead_letters_total", reason="rejected", type=catalogue.LABELS_UPDATED): 1,
        key("remedy_dead_letters_total", reason="retries_exhausted",
            type=catalogue.LABELS_UPDATED): 1,
        key("remedy_steps_total", **step, outcome="done"): 2,
        key("remedy_step_duration_seconds_count", **step): 2,
    }  # fmt: skip


def test_a_metric_that_cannot_be_recorded_never_changes_the_answer(
    unreachable: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    class Broken:
        def labels(self, *args: object) -> Any:
            raise ValueError("broken registry")

    for name in ("STEPS", "STEP_DURATION", "ACKNOWLEDGEMENTS"):
        monkeypatch.setattr(metrics, name, Broken())
    assert post(serve("push-intake"), _event(catalogue.PUSH, NOT_REX)).status_code == 202
    control = serve("control-api")
    assert control.post("/v1/coderuns/agent-platform/cleo-12/cancellation/ack").status_code == 401
    assert serve("push-intake").get("/metrics").status_code == 200
