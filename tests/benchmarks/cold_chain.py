"""The first remediation after idle: every function started on demand, against empty ones.

Issue 15: on a quiet repository nearly every push meets functions scaled to zero, so
this is the path users wait on. Function: every function scaled to zero, a signed Rex
push on a fresh task is POSTed to webhook-gateway's activator; each function starts
when its first request reaches its activator (the broker's delivery; for control-api,
the agent's acknowledgement) — started on demand, not all at once, so the starts along
the critical path add up as they would on Knative. Measured from the POST until the
watch sees the workflow resumed; the last delivery to workflow-resume answered (from
the broker's records) is reported too, the floor's measure.

Floor: the same topology with the empty function behind every activator
(``floor/empty.py``), each replying with the event the real one replies with, so the
same Triggers carry the chain through the same hops: gateway → broker → push-intake →
agent-cancel ∥ label-update → control-api (the acknowledgement) → workflow-resume.
Measured from the POST until the last of the three events that reach workflow-resume
has been answered. The floor's agent-cancel sends the acknowledgement itself (from a
thread, after replying): it leaves out the one wait that is no function's — the agent
noticing its cancellation request through a Kubernetes watch — so it is a lower bound.
Function and floor runs alternate.

For information, a third kind of run: every function of the chain started at the
moment the push is POSTed (as if the push itself woke them all), remedy's functions
again — what overlapping the starts would buy on this machine's CPUs.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

from remedy.local.broker.records import Outcome
from tests.benchmarks.activator import median
from tests.benchmarks.fleet import Fleet, Push, Triggers
from tests.support.waiting import eventually

RUNS = 5
CHAIN = (
    "webhook-gateway",
    "push-intake",
    "agent-cancel",
    "label-update",
    "control-api",
    "workflow-resume",
)
JOINED = ("dev.remedy.agents.cancelled", "dev.remedy.labels.updated", "dev.remedy.agents.stopped")
"""What workflow-resume receives for one push: the chain has ended when all three were."""
TIMEOUT_S = 60.0


def _last_join(fleet: Fleet, delivery: str) -> float | None:
    """When the last of the three events for ``delivery`` was answered by workflow-resume."""
    ends: dict[str, float] = {}
    for record in fleet.harness.platform.broker.records.deliveries():  # type: ignore[union-attr]
        if (
            record.event_type in JOINED
            and record.event_id.startswith(f"{delivery}:")
            and record.outcome in (Outcome.ACCEPTED, Outcome.REPLIED)
        ):
            ends.setdefault(record.event_type, record.at)
    return max(ends.values()) if len(ends) == len(JOINED) else None


def _starts(fleet: Fleet, push: Push, *, since: float) -> dict[str, dict[str, float | None]]:
    """Each function's start, in ms after the POST: spawned, ready, first answer."""
    found = {}
    for name in CHAIN:
        starts = [s for s in fleet.activators[name].starts if s.spawned >= since]
        if starts:
            start = starts[0]
            found[name] = {
                mark: None if at is None else round((at - push.started) * 1000, 1)
                for mark, at in (
                    ("spawned", start.spawned),
                    ("ready", start.ready),
                    ("answered", start.answered),
                )
            }
    return found


Kind = Literal["on_demand", "floor", "woken_together"]


def _run(fleet: Fleet, triggers: Triggers, kind: Kind) -> dict[str, Any]:
    fleet.scale_all_to_zero()
    since, empty = time.monotonic(), kind == "floor"
    if empty:
        fleet.use_empty()
    else:
        fleet.use_real()
    if kind == "woken_together":
        for name in CHAIN:  # each activator holds its requests until its start is ready
            threading.Thread(target=fleet.activators[name].warm, daemon=True).start()
    push = triggers.push(seed=not empty)
    resumed_at = None if empty else push()
    joined = eventually(
        lambda: _last_join(fleet, push.delivery),
        timeout=TIMEOUT_S,
        what=f"workflow-resume answered the three events of {push.delivery}",
    )
    fleet.settle()
    result = {
        "ms": round(((resumed_at or joined) - push.started) * 1000, 1),
        "last_join_answered_ms": round((joined - push.started) * 1000, 1),
        "starts_ms_after_post": _starts(fleet, push, since=since),
    }
    fleet.scale_all_to_zero()
    fleet.use_real()
    return result


def measure(fleet: Fleet, triggers: Triggers) -> dict[str, Any]:
    """Median over alternating runs of the cold chain and of its empty-function floor."""
    runs: dict[Kind, list[dict[str, Any]]] = {"on_demand": [], "floor": [], "woken_together": []}
    for _ in range(RUNS):
        for kind, done in runs.items():
            done.append(_run(fleet, triggers, kind))
            time.sleep(0.5)  # the killed processes' memory is returned before the next run
    value, base = (median(r["ms"] for r in runs[kind]) for kind in ("on_demand", "floor"))
    together = median(r["ms"] for r in runs["woken_together"])
    return {
        "cold_chain_ms": round(value, 1),
        "floor_ms": round(base, 1),
        "ratio": round(value / base, 2),
        "runs": RUNS,
        "info_woken_together_ms": round(together, 1),
        "info_woken_together_ratio": round(together / base, 2),
        "function_runs": runs["on_demand"],
        "floor_runs": runs["floor"],
        "woken_together_runs": runs["woken_together"],
        "method": (__doc__ or "").split("\n\n", 1)[1].replace("\n", " ").strip(),
    }
