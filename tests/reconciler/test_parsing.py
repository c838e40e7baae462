"""What the reconciler reads from its environment and from a dead letter, table-driven.

Covers: REMEDY_FORCE_GRACE_SECONDS / REMEDY_SAGA_DEADLINE_SECONDS / REMEDY_MAX_REDRIVES
default to 10 / 60 / 5, take valid values, and refuse malformed or negative ones with a
message naming the variable; ``knativeerrordata`` is decoded from base64 (also when
Knative cut it mid-way), reduced to remedy's ``error: message`` when the body is one of
its JSON errors, shown as it came when it is not base64, whitespace-collapsed and
bounded; a dead letter names its task by ``taskid`` plus the repository from its data
or its subject, and names none when either is missing or invalid.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cloudevents.http import CloudEvent

from remedy.handlers.reconciler.dead_letters import MAX_REASON, DeadLetter, reason_of
from remedy.handlers.reconciler.reconciler import ReconcileSettings, SettingsError


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, ReconcileSettings(force_grace_s=10, saga_deadline_s=60.0, max_redrives=5)),
        (
            {
                "REMEDY_FORCE_GRACE_SECONDS": "0",
                "REMEDY_SAGA_DEADLINE_SECONDS": "2.5",
                "REMEDY_MAX_REDRIVES": "1",
            },
            ReconcileSettings(force_grace_s=0, saga_deadline_s=2.5, max_redrives=1),
        ),
        ({"REMEDY_FORCE_GRACE_SECONDS": " "}, ReconcileSettings()),
    ],
)
def test_settings_from_the_environment(env: dict[str, str], expected: ReconcileSettings) -> None:
    assert ReconcileSettings.from_env(env) == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("REMEDY_FORCE_GRACE_SECONDS", "1.5"),
        ("REMEDY_FORCE_GRACE_SECONDS", "-1"),
        ("REMEDY_SAGA_DEADLINE_SECONDS", "soon"),
        ("REMEDY_SAGA_DEADLINE_SECONDS", "-60"),
        ("REMEDY_MAX_REDRIVES", "many"),
    ],
)
def test_malformed_settings_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        ReconcileSettings.from_env({name: value})


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


LONG = "x" * 2000


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (None, "no reason given"),
        ("", "no reason given"),
        (_b64(json.dumps({"error": "rejected", "message": "bad epoch"})), "rejected: bad epoch"),
        (_b64("upstream connect error"), "upstream connect error"),
        (_b64("dispatch error:\n  timeout   after 30s"), "dispatch error: timeout after 30s"),
        (_b64("a body Knative cut mid-way")[:-3], "a body Knative cut mid-w"),
        ("not base64 at all!", "not base64 at all!"),
        (_b64(LONG), "x" * (MAX_REASON - 1) + "…"),
    ],
    ids=["none", "empty", "remedy-json", "text", "whitespace", "cut", "plain", "long"],
)
def test_the_reason_inside_knativeerrordata(data: Any, expected: str) -> None:
    assert reason_of(data) == expected


@pytest.mark.parametrize(
    ("extra", "data", "task"),
    [
        ({"taskid": "12"}, {"repository": "5dlabs/cto"}, (12, "5dlabs/cto")),
        ({"taskid": "12", "subject": "5dlabs/cto/tasks/12"}, None, (12, "5dlabs/cto")),
        ({"taskid": "12"}, {"repository": "not a repo"}, (None, None)),
        ({"taskid": "0"}, {"repository": "5dlabs/cto"}, (None, None)),
        ({"taskid": "twelve"}, {"repository": "5dlabs/cto"}, (None, None)),
        ({}, {"repository": "5dlabs/cto"}, (None, None)),
    ],
)
def test_a_dead_letter_names_its_task_only_when_it_says_which(
    extra: dict[str, str], data: Any, task: tuple[int | None, str | None]
) -> None:
    event = CloudEvent({"type": "t", "source": "/s", "id": "i", **extra}, data)
    letter = DeadLetter.of(event)
    assert (letter.task_id, letter.repository) == task
    assert letter.reason == "no reason given"
    assert letter.code == "?"
