"""After one remediation on the local platform, every function's /metrics says exactly
what happened.

``remedy up`` runs in-process (tests/chaos/harness.py) with every function as its own
process, as on Knative. Task 4242 has Rex running, Cleo running and never acknowledging
(no agent simulates it) and Tess not started; its play workflow waits at
``waiting-ready-for-qa``. Rex pushes through webhook-gateway. Each function's /metrics
is scraped over HTTP before and after (its URL from the platform's state), parsed with
prometheus_client's parser, and the difference must be exactly:

- webhook-gateway: one webhook step;
- push-intake: one remediation requested, its push-log lock;
- agent-cancel: Tess deleted before start, Cleo asked to stop;
- label-update: one read and two writes to GitHub, by endpoint, and the rate limit left;
- the reconciler: Cleo forced after her grace, and its ticks;
- workflow-resume: the remediation resumed, once, one push-to-resume observation, after
  acknowledging the labels and the cancellation and taking ``agents.stopped``;
- control-api and feedback-intake: nothing;
- every function's steps succeeded (no rejected or failed step), and no label value
  anywhere is the task id, a SHA, the delivery id or anything like them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.chaos.harness import POLL_S, Harness
from tests.chaos.seeding import sha
from tests.metrics.samples import Samples, key, moved, of, parse, suspicious_labels, total
from tests.metrics.test_outcomes import rate_limit_left
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

TASK = 4242
DELIVERY = "metrics-e2e-push-1"
PUSH = "dev.knative.source.github.push"
REQUESTED = "dev.remedy.remediation.requested"
DOMAIN = ("remedy_remediations", "remedy_cancellation", "remedy_push_to_resume",
          "remedy_feedback", "remedy_dead_letters", "remedy_acknowledgements",
          "remedy_github_requests")  # fmt: skip


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[Harness]:
    harness = Harness.start(
        tmp_path,
        function_env={"REMEDY_CANCEL_GRACE_SECONDS": "2", "REMEDY_FORCE_GRACE_SECONDS": "0"},
        ping_seconds=0.5,
    )
    yield harness
    harness.stop()


def scrape(harness: Harness) -> dict[str, Samples]:
    """Every function's /metrics, parsed, by function."""
    found = {}
    for function, url in harness.state["functions"].items():
        answer = requests.get(f"{url}/metrics", timeout=10)
        assert answer.status_code == 200, (function, answer.text[:300])
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        found[function] = parse(answer.text)
    return found


def domain(changed: Samples) -> Samples:
    return {k: v for k, v in changed.items() if k[0].startswith(DOMAIN)}


def succeeded_steps(changed: Samples, function: str) -> dict[tuple[str, str], float]:
    """(step, outcome) → count, for ``function``'s steps."""
    steps = of(changed, "remedy_steps_total")
    return {
        (dict(labels)["step"], dict(labels)["outcome"]): count
        for labels, count in steps.items()
        if dict(labels)["function"] == function
    }


def resumed(harness: Harness) -> bool:
    state = harness.remediation(TASK)
    return bool(state and state.resumed_epoch > 0)


def test_one_remediation_moves_every_function_s_counters_by_exactly_what_happened(
    platform: Harness,
) -> None:
    platform.seed_task(TASK)
    platform.coderun(f"rex-{TASK}", task=TASK, agent="5DLabs-Rex", phase="Running")
    platform.coderun(f"cleo-{TASK}", task=TASK, agent="5DLabs-Cleo", phase="Running")
    platform.coderun(f"tess-{TASK}", task=TASK, agent="5DLabs-Tess", phase="Pending")
    before = scrape(platform)

    status = platform.push(task=TASK, before=sha(TASK, 0), after=sha(TASK, 1),
                           delivery=DELIVERY, pushed_at=int(time.time()) + 2)  # fmt: skip
    assert status == 202
    eventually(lambda: resumed(platform), timeout=60, every=POLL_S, what="the resume",
               describe=lambda: platform.remediation(TASK))  # fmt: skip
    after = scrape(platform)
    changed = {name: moved(before[name], after[name]) for name in after}

    assert domain(changed["webhook-gateway"]) == {}
    assert succeeded_steps(changed["webhook-gateway"], "webhook-gateway") == {
        ("webhook", "done"): 1
    }
    assert domain(changed["push-intake"]) == {key("remedy_remediations_requested_total"): 1}
    assert succeeded_steps(changed["push-intake"], "push-intake") == {(PUSH, "replied"): 1}
    locks = of(changed["push-intake"], "remedy_lock_acquisitions_total")
    assert locks == {(("lock", "push-log"), ("result", "acquired")): 1}

    assert domain(changed["agent-cancel"]) == {
        key("remedy_cancellations_total", outcome="deleted_before_start"): 1,
        key("remedy_cancellation_requests_total"): 1,
    }
    assert succeeded_steps(changed["agent-cancel"], "agent-cancel") == {(REQUESTED, "replied"): 1}

    labels = "/repos/{owner}/{repo}/issues/{number}/labels"
    assert domain(changed["label-update"]) == {
        key("remedy_github_requests_total", method="GET", status="2xx",
            endpoint="/repos/{owner}/{repo}/pulls"): 1,
        key("remedy_github_requests_total", method="DELETE", status="2xx",
            endpoint=labels + "/{name}"): 1,
        key("remedy_github_requests_total", method="POST", status="2xx", endpoint=labels): 1,
    }  # fmt: skip
    left = after["label-update"][key("remedy_github_ratelimit_remaining", resource="core")]
    assert left == rate_limit_left(platform.state["github_api_url"], platform.state["github_token"])
    assert succeeded_steps(changed["label-update"], "label-update") == {(REQUESTED, "replied"): 1}

    assert domain(changed["reconciler"]) == {key("remedy_cancellations_total", outcome="forced"): 1}
    ticks = succeeded_steps(changed["reconciler"], "reconciler")
    assert set(ticks) == {("tick", "done")} and ticks[("tick", "done")] >= 1

    assert domain(changed["workflow-resume"]) == {
        key("remedy_remediations_total", outcome="resumed"): 1,
        key("remedy_push_to_resume_seconds_count", start="warm"): 1,
    }
    assert succeeded_steps(changed["workflow-resume"], "workflow-resume") == {
        ("dev.remedy.labels.updated", "acknowledged"): 1,
        ("dev.remedy.agents.cancelled", "acknowledged"): 1,
        ("dev.remedy.agents.stopped", "replied"): 1,
    }
    assert changed["control-api"] == {} and changed["feedback-intake"] == {}

    everything = {k: v for samples in after.values() for k, v in samples.items()}
    assert total(everything, "remedy_steps_total", outcome="failed") == 0
    assert total(everything, "remedy_steps_total", outcome="rejected") == 0
    assert suspicious_labels(everything) == []
    shown = {value for _name, labels in everything for _label, value in labels}
    for secret in (str(TASK), sha(TASK, 0)[:12], sha(TASK, 1)[:12], DELIVERY):
        assert not any(secret in value for value in shown), secret
