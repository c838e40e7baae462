"""Ledger keys and payload fingerprints.

Covers: event and step keys are readable for ordinary ids and percent-encode the rest;
parts cannot run into each other (``:`` inside a part is encoded); long parts are
hashed to a bounded length and cannot collide with literal parts; empty, over-long,
control-character and non-string parts are refused; step names are validated;
fingerprints of mappings ignore key order, differ for different content, and raw
bytes hash as given.
"""

from __future__ import annotations

from typing import Any

import pytest

from remedy.adapters.redis.ledger_keys import MAX_PART_CHARS, LedgerKey, fingerprint


def test_keys_are_readable_for_ordinary_ids() -> None:
    key = LedgerKey.for_event("https://github.com/5dlabs/cto", "6f1e1a10-8a4b-11ef")
    assert key.redis_key == "remedy:ledger:event:https%3A//github.com/5dlabs/cto:6f1e1a10-8a4b-11ef"
    step = LedgerKey.for_step("6f1e1a10-8a4b-11ef", "cancel-agents")
    assert step.redis_key == "remedy:ledger:step:6f1e1a10-8a4b-11ef:cancel-agents"
    assert "cancel-agents" in str(step)


def test_parts_cannot_run_into_each_other() -> None:
    assert LedgerKey.for_event("a:b", "c").redis_key != LedgerKey.for_event("a", "b:c").redis_key


def test_long_parts_are_hashed_to_a_bounded_length() -> None:
    long_id = "x" * 1000
    key = LedgerKey.for_event("src", long_id).redis_key
    assert len(key) < 40 + 2 * MAX_PART_CHARS
    assert key != LedgerKey.for_event("src", long_id + "y").redis_key
    hashed_part = key.rsplit(":", 1)[1]
    assert hashed_part.startswith("=")
    # A literal part that looks like a hash is encoded differently.
    assert LedgerKey.for_event("src", hashed_part).redis_key != key


@pytest.mark.parametrize(
    ("source", "event_id", "message"),
    [
        ("", "id", "event source must be a non-empty string"),
        ("src", "", "event id must be a non-empty string"),
        ("src", "a\nb", "control characters"),
        ("src\x00", "id", "control characters"),
        ("src", "x" * 5000, "at most 4096"),
        ("src", 12, "non-empty string"),
    ],
)
def test_bad_event_key_parts_are_refused(source: Any, event_id: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LedgerKey.for_event(source, event_id)


@pytest.mark.parametrize("step", ["", "a b", "a,b", "_x", "x" * 65, "a:b"])
def test_bad_step_names_are_refused(step: str) -> None:
    with pytest.raises(ValueError, match="step name"):
        LedgerKey.for_step("delivery-1", step)


def test_fingerprints() -> None:
    assert fingerprint({"a": 1, "b": [1, 2]}) == fingerprint({"b": [1, 2], "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})
    assert fingerprint(b"raw body") == fingerprint(bytearray(b"raw body"))
    assert fingerprint(b"raw body") != fingerprint(b"raw body ")
    assert fingerprint(b"").startswith("sha256:")
    with pytest.raises(TypeError):
        fingerprint("text")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        fingerprint({"x": float("inf")})
