"""The event catalogue and its generated schemas.

Covers: the checked-in JSON Schemas and docs/events.md are exactly what the models
generate (a shape change is always a reviewed diff); every remedy event type in the
catalogue has a model and every model is catalogued; every model carries the task
envelope; each schema is a valid JSON Schema that accepts a model's own output and
refuses out-of-range identifiers; events built by the codec carry the envelope as
extensions with a valid traceparent; tracing keeps the trace id across steps.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from remedy.events import catalogue, codec, models, schemas, tracing

ENVELOPE = {"task_id", "repository", "pr_number", "head_sha", "correlation_id", "epoch"}
SHA = "a" * 40


def test_checked_in_schemas_and_doc_are_current() -> None:
    assert schemas.stale() == [], "run: python -m remedy.events.schemas --write"


def test_every_remedy_type_has_a_model_and_every_model_is_catalogued() -> None:
    remedy_types = {e.type for e in catalogue.CATALOGUE if e.type.startswith("dev.remedy.")}
    assert remedy_types == set(models.BY_TYPE)
    for entry in catalogue.CATALOGUE:
        if entry.type in models.BY_TYPE:
            assert entry.data == models.BY_TYPE[entry.type].__name__


def test_emitted_types_are_consumed_or_terminal() -> None:
    for entry in catalogue.CATALOGUE:
        assert entry.consumers or entry.terminal, entry.type
        assert not (entry.consumers and entry.terminal), entry.type


@pytest.mark.parametrize("model", models.MODELS, ids=lambda m: m.__name__)
def test_every_model_carries_the_envelope(model: type[models.TaskEvent]) -> None:
    assert set(model.model_fields) >= ENVELOPE
    schema = json.loads(schemas.schema_file(model.event_type).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert ENVELOPE - {"pr_number"} <= set(schema["required"])


def _requested(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task_id": 12,
        "repository": "5dlabs/cto",
        "head_sha": SHA,
        "correlation_id": "d-1",
        "epoch": 7,
        "branch": "task-12-x",
        "before_sha": "b" * 40,
        "after_sha": SHA,
        "pusher": "5DLabs-Rex",
        "delivery_id": "d-1",
        "pushed_at": "2026-11-21T10:00:00Z",
    }
    data.update(changes)
    return data


def test_schema_accepts_model_output() -> None:
    data = models.RemediationRequested(**_requested()).model_dump(mode="json")
    schema = json.loads(schemas.schema_file(catalogue.REMEDIATION_REQUESTED).read_text())
    jsonschema.validate(data, schema)


@pytest.mark.parametrize(
    "changes",
    [
        {"task_id": 0},
        {"task_id": 10_000_001},
        {"repository": "no-slash"},
        {"repository": "../etc/passwd"},
        {"head_sha": "abc"},
        {"correlation_id": "bad id with spaces"},
        {"epoch": 0},
        {"pusher": "not a login!"},
    ],
    ids=lambda c: next(iter(c)),
)
def test_schema_and_model_refuse_bad_values(changes: dict[str, Any]) -> None:
    schema = json.loads(schemas.schema_file(catalogue.REMEDIATION_REQUESTED).read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(_requested(**changes), schema)
    with pytest.raises(ValueError):
        models.RemediationRequested(**_requested(**changes))


def test_codec_puts_the_envelope_in_extensions() -> None:
    data = models.RemediationRequested(**_requested())
    parent = tracing.start("d-1")
    event = codec.task_event(
        data, producer="push-intake", event_id=codec.event_id("d-1", "x"), traceparent=parent
    )
    attributes = event.get_attributes()
    assert attributes["taskid"] == "12"
    assert attributes["epoch"] == "7"
    assert attributes["correlationid"] == "d-1"
    assert attributes["subject"] == "5dlabs/cto/tasks/12"
    assert attributes["id"] == "d-1:x"
    headers, body = codec.encode_binary(event)
    assert headers["ce-type"] == catalogue.REMEDIATION_REQUESTED
    assert json.loads(body)["task_id"] == 12


def test_tracing_keeps_the_trace_across_steps() -> None:
    first = tracing.start("delivery-1")
    assert tracing.start("delivery-1").split("-")[1] == first.split("-")[1]
    child = tracing.child(first, delivery_id="delivery-1")
    assert tracing.trace_id(child) == tracing.trace_id(first)
    assert child.split("-")[2] != first.split("-")[2]
    assert tracing.trace_id(tracing.child("garbage", delivery_id="d")) == tracing.trace_id(
        tracing.start("d")
    )
