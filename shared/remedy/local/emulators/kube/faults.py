"""Fault injection, switchable at run time: latency, 5xx, 409 storms, dropped connections.

remedy must survive a slow or failing apiserver, so tests (and people running the
local platform) can ask the emulator to misbehave for chosen verbs and resources:

- ``latency``: wait ``latency_ms`` before handling the request normally;
- ``status``: answer a Status with ``status`` (500, 503, 429, 504 …);
- ``conflict``: answer 409 Conflict ("the object has been modified"), a 409 storm;
- ``drop``: close the connection without any response.

A rule fires with ``probability`` and, when ``count`` is set, that many times only;
``skip`` lets that many matching requests through first.
Rules are managed from Python (:class:`Faults`) or over HTTP
(``POST/GET/DELETE /_emulator/faults``); :class:`Stats` counts requests per
``"<verb> <resource>"`` for ``GET /_emulator/stats``.
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from remedy.local.emulators.kube import errors
from remedy.local.emulators.kube.errors import ApiError

KINDS = ("latency", "status", "conflict", "drop")
VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*")
_REASONS = {
    429: "TooManyRequests",
    500: "InternalError",
    502: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass
class FaultRule:
    kind: str
    verb: str = "*"
    resource: str = "*"  # plural ("coderuns"), "group/plural", or "*"
    probability: float = 1.0
    count: int | None = None
    latency_ms: float = 0.0
    status: int = 500
    message: str = ""
    skip: int = 0
    """Matching requests let through before the rule starts to fire (the n-th write...)."""
    id: str = ""
    fired: int = 0
    skipped: int = 0

    def applies(self, verb: str, group: str, plural: str) -> bool:
        if self.verb not in ("*", verb):
            return False
        return self.resource in ("*", plural, f"{group}/{plural}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_from(body: Any) -> FaultRule:
    """Build a rule from an admin request body, or 400 with what is wrong."""
    if not isinstance(body, dict):
        raise errors.bad_request("a fault rule must be a JSON object")
    allowed = {
        "kind",
        "verb",
        "resource",
        "probability",
        "count",
        "latency_ms",
        "status",
        "message",
        "skip",
    }
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise errors.bad_request(
            f"unknown fault rule fields: {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    try:
        rule = FaultRule(**body)
    except TypeError as error:
        raise errors.bad_request(f"invalid fault rule: {error}") from None
    if rule.kind not in KINDS:
        raise errors.bad_request(f"fault kind must be one of {', '.join(KINDS)}, not {rule.kind!r}")
    if rule.verb not in VERBS:
        raise errors.bad_request(f"fault verb must be one of {', '.join(VERBS)}, not {rule.verb!r}")
    if not isinstance(rule.probability, int | float) or not 0 <= rule.probability <= 1:
        raise errors.bad_request("probability must be a number between 0 and 1")
    if rule.count is not None and (not isinstance(rule.count, int) or rule.count < 1):
        raise errors.bad_request("count must be a positive integer or null")
    if isinstance(rule.skip, bool) or not isinstance(rule.skip, int) or rule.skip < 0:
        raise errors.bad_request("skip must be a non-negative integer")
    if rule.kind == "status" and (
        not isinstance(rule.status, int) or not 400 <= rule.status <= 599
    ):
        raise errors.bad_request("status must be an HTTP error code (400-599)")
    if not isinstance(rule.latency_ms, int | float) or rule.latency_ms < 0:
        raise errors.bad_request("latency_ms must be a non-negative number")
    return rule


@dataclass(frozen=True)
class Decision:
    """What to do with one request: wait, then maybe answer an error or drop it."""

    delay_seconds: float = 0.0
    error: ApiError | None = None
    drop: bool = False


@dataclass
class Faults:
    _rules: list[FaultRule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _random: random.Random = field(default_factory=random.Random)

    def add(self, kind: str, **options: Any) -> FaultRule:
        rule = rule_from({"kind": kind, **options})
        return self.add_rule(rule)

    def add_rule(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = f"fault-{next(self._ids)}"
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [rule for rule in self._rules if rule.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def decide(self, *, verb: str, group: str, plural: str, name: str) -> Decision:
        delay, error, drop = 0.0, None, False
        with self._lock:
            if not self._rules:
                return Decision()
            for rule in list(self._rules):
                if not rule.applies(verb, group, plural):
                    continue
                if rule.skipped < rule.skip:
                    rule.skipped += 1
                    continue
                if rule.probability < 1 and self._random.random() >= rule.probability:
                    continue
                if rule.kind != "latency" and (error is not None or drop):
                    continue
                rule.fired += 1
                if rule.count is not None and rule.fired >= rule.count:
                    self._rules.remove(rule)
                if rule.kind == "latency":
                    delay += rule.latency_ms / 1000
                elif rule.kind == "drop":
                    drop = True
                elif rule.kind == "conflict":
                    error = errors.conflict(group, plural, name or "")
                else:
                    reason = _REASONS.get(rule.status, "InternalError")
                    message = rule.message or f"Internal error occurred: injected fault ({rule.id})"
                    error = ApiError(
                        rule.status,
                        reason,
                        message,
                        headers={"Retry-After": "1"} if rule.status in (429, 503) else {},
                    )
        return Decision(delay, error, drop)


class Stats:
    """Request counts per ``"<verb> <resource>"`` (and ``total``)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def count(self, verb: str, plural: str) -> None:
        with self._lock:
            self._counts[f"{verb} {plural}"] += 1
            self._counts["total"] += 1

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
