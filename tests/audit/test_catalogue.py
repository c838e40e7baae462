"""The audit catalogue (remedy.domain.audit): complete, used, documented, well-formed.

Covers: reasons and actions are UpperCamelCase as Kubernetes writes them, unique, within
the apiserver's 128 characters; every entry names at least one kind and one writer;
the handlers record exactly the catalogued reasons (each one somewhere, no other); the
README's "Kubernetes Events" table says what the catalogue says (reason, type, kinds,
writers, when), row for row; the message names the task, the short head (none for an
unknown head), the epoch, what was done, who asked and why, and is cut to the
apiserver's 1024 bytes without splitting a character.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from remedy.domain import audit
from remedy.domain.audit import CATALOGUE, Reason

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "shared" / "remedy" / "handlers"
UPPER_CAMEL = re.compile(r"^[A-Z][a-z]+(?:[A-Z][a-z]+)*$")


def test_reasons_and_actions_are_kubernetes_shaped() -> None:
    assert [entry.reason for entry in CATALOGUE] == list(Reason), "one entry per reason"
    for entry in CATALOGUE:
        for text in (entry.reason.value, entry.action):
            assert UPPER_CAMEL.match(text) and len(text) <= 128, text
        assert entry.regarding and entry.writers and entry.when, entry.reason
        assert entry.type in ("Normal", "Warning")


def test_the_handlers_record_exactly_the_catalogued_reasons() -> None:
    used = {
        match
        for path in HANDLERS.rglob("*.py")
        for match in re.findall(r"\bReason\.([A-Z_]+)\b", path.read_text())
    }
    assert used == {reason.name for reason in Reason}


def _readme_rows() -> list[list[str]]:
    lines = (ROOT / "README.md").read_text().splitlines()
    (start,) = [i for i, line in enumerate(lines) if line.startswith("| Reason | Type | On |")]
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def test_the_readme_table_is_the_catalogue() -> None:
    rows = _readme_rows()
    assert [row[0].strip("`") for row in rows] == [entry.reason.value for entry in CATALOGUE]
    for row, entry in zip(rows, CATALOGUE, strict=True):
        _, kind, on, writers, when = row
        assert kind == entry.type, entry.reason
        assert re.findall(r"CodeRun|Workflow|ConfigMap", on) == list(entry.regarding)
        assert writers.split(", ") == list(entry.writers), entry.reason
        assert when == entry.when, entry.reason


def test_the_message_names_task_head_epoch_who_and_why() -> None:
    text = audit.note(
        task_id=12,
        head="2" * 40,
        epoch=7,
        what="asked the run to stop.",
        requested_by="operator:alice",
        why="the spec changed",
    )
    assert text == (
        "Task 12, head 222222222222, epoch 7: asked the run to stop. "
        "Requested by operator:alice: the spec changed."
    )
    for unknown in ("", audit.NO_SHA):
        bare = audit.note(task_id=3, head=unknown, epoch=1, what="w", requested_by="", why="")
        assert bare == "Task 3, epoch 1: w. Requested by unknown: no reason given."


@pytest.mark.parametrize("filler", ["x", "é", "🔴"])
def test_a_long_message_is_cut_to_the_apiservers_limit(filler: str) -> None:
    text = audit.note(task_id=1, head="", epoch=1, what=filler * 2000, requested_by="r", why="w")
    assert len(text.encode()) <= audit.NOTE_LIMIT
    assert len(text.encode()) > audit.NOTE_LIMIT - 8
    assert text.endswith("…") and text.startswith("Task 1, epoch 1: ")
