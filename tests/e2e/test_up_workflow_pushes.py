"""``remedy up --demo``: one push, one reset and resume, however GitHub delivers it.

Covers, against the real process tree, once the demo's push was handled and the play
workflow moved on to the ready-for-qa gate and suspended there:

- the same push delivered again under other delivery ids — signed through the gateway
  as GitHub's form-encoded content type, as Knative GitHubSource's CloudEvent (its
  attributes and its lossy re-serialised data) straight to the broker, and as a
  redelivery of the first id — is answered by push-intake with the first delivery's
  reply (same event id, same epoch), each later step replays its recorded outcome, and
  it costs no GitHub request and no Kubernetes write: the workflow stays suspended at
  the gate, resumed once (one "Resumed by" node, its head once in resumed-heads), no
  CodeRun is created or cancelled; nothing is owed, so the reconciler's next ticks do not
  resume the gate either;
- a newer push linked to the demo's (before = its after, pushed in the same second)
  supersedes it with a new epoch: the workflow is reset from the gate to
  waiting-pr-created and resumed once for it, runs Cleo on the new head and suspends at
  the gate again; resumed-heads lists both heads, oldest first.

Each duplicate is waited for until the broker has finished its whole chain (push →
push-intake → agent-cancel and label-update → workflow-resume), never for a guessed time.
"""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

import pytest

from tests.e2e.conftest import FIRST_DELIVERY, Pushed
from tests.e2e.demo import (
    GATE,
    PUSH_TRIGGER,
    RESUMED_BY,
    WORKFLOW,
    Demo,
    head_of,
    is_quality,
    resume_messages,
    waiting_at,
)
from tests.support.waiting import eventually

pytestmark = pytest.mark.e2e

FORM_DELIVERY = "e2e-duplicate-form"
SOURCE_DELIVERY = "e2e-duplicate-githubsource"
NEWER_DELIVERY = "e2e-newer-push"
# the first delivery's chain, hop by hop: (event id, the Trigger that delivers it)
CHAIN = [
    (f"{FIRST_DELIVERY}:remediation.requested", "agent-cancel-remediation-requested"),
    (f"{FIRST_DELIVERY}:remediation.requested", "label-update-remediation-requested"),
    (f"{FIRST_DELIVERY}:agents.cancelled", "workflow-resume-agents-cancelled"),
    (f"{FIRST_DELIVERY}:labels.updated", "workflow-resume-labels-updated"),
]


def test_other_deliveries_of_the_demo_push_change_nothing(demo: Demo, demo_pushed: Pushed) -> None:
    push = demo.push
    first = demo.push_intake_reply(FIRST_DELIVERY)
    assert first is not None and first.event_id == f"{FIRST_DELIVERY}:remediation.requested"
    demo.wait_ticks(1)  # whatever the demo push left the reconciler to do is done
    versions, github, history = demo.versions(), demo.github_requests(), _history(demo)
    before = demo.deliveries()

    demo.webhook(push, delivery=FORM_DELIVERY, form=True)  # another hook, form-encoded
    demo.github_source(push, delivery=SOURCE_DELIVERY)  # a GitHubSource seeing the repo
    demo.webhook(push, delivery=FIRST_DELIVERY)  # GitHub's redelivery keeps the id

    def pushes_answered() -> bool:
        now = demo.deliveries()
        return (
            now[(FORM_DELIVERY, PUSH_TRIGGER)] >= 1
            and now[(SOURCE_DELIVERY, PUSH_TRIGGER)] >= 1
            and now[(FIRST_DELIVERY, PUSH_TRIGGER)] > before[(FIRST_DELIVERY, PUSH_TRIGGER)]
        )

    eventually(pushes_answered, timeout=30, every=0.05)
    for delivery in (FORM_DELIVERY, SOURCE_DELIVERY):
        assert demo.push_intake_reply(delivery) == first, f"push-intake's reply to {delivery}"
    # each of the three replies was the first delivery's event, so each went down the
    # first delivery's chain once more: every hop is delivered three more times
    expected = Counter({hop: before[hop] + 3 for hop in CHAIN})
    try:
        eventually(lambda: _hops(demo) >= expected, timeout=30, every=0.05)
    except AssertionError:
        pytest.fail(f"the first delivery's chain did not run 3 more times: {_hops(demo)}")

    def unchanged() -> None:
        workflow = demo.workflow()
        assert waiting_at(workflow) == [GATE]
        assert resume_messages(workflow) == Counter(
            {f"{RESUMED_BY} (remediation, epoch {first.epoch})": 1}
        )
        assert workflow["metadata"]["annotations"]["remedy.dev/resumed-heads"] == push["after"]
        assert demo.versions() == versions, "a duplicate wrote to Kubernetes"
        assert demo.github_requests() == github, "a duplicate cost GitHub requests"
        assert _history(demo) == history
        assert demo.remediation()[0].kept_resume is None, "a resume is still owed"
        assert _hops(demo) == expected, "a step ran again after the duplicates"

    unchanged()
    demo.wait_ticks(2)  # the reconciler looked at the task after the duplicates
    unchanged()


def test_a_newer_linked_push_resets_and_resumes_the_workflow_once(
    demo: Demo, demo_pushed: Pushed
) -> None:
    push = demo.push
    first = demo.push_intake_reply(FIRST_DELIVERY)
    assert first is not None
    head = secrets.token_hex(20)
    newer = {  # Rex's next commit on the branch, pushed in the same second
        **push,
        "before": push["after"],
        "after": head,
        "compare": f"https://github.com/5dlabs/cto/compare/{push['after'][:12]}...{head[:12]}",
        "head_commit": {"id": head, "message": "fix: address QA feedback, again"},
    }
    [demo_cleo] = [r for r in demo_pushed.runs.values() if is_quality(r)]
    github = demo.github_requests()

    demo.webhook(newer, delivery=NEWER_DELIVERY)
    reply = eventually(lambda: demo.push_intake_reply(NEWER_DELIVERY), timeout=30, every=0.05)
    assert reply.event_id == f"{NEWER_DELIVERY}:remediation.requested"
    assert reply.epoch > first.epoch, "the linked push must supersede the demo's"
    workflow, cleo = eventually(lambda: _past_cleo_on(demo, head), timeout=60, every=0.2)

    assert resume_messages(workflow) == Counter(
        {f"{RESUMED_BY} (remediation, epoch {e})": 1 for e in (first.epoch, reply.epoch)}
    )
    annotations = workflow["metadata"]["annotations"]
    assert annotations["remedy.dev/resumed-heads"] == f"{push['after']},{head}"
    assert (annotations["remedy.dev/epoch"], head_of(workflow)) == (str(reply.epoch), head)
    labels = workflow["metadata"]["labels"]
    assert (labels["previous-stage"], labels["current-stage"]) == ("waiting-pr-created", GATE)
    state, _ = demo.remediation()
    assert state.epoch == reply.epoch
    reset = f"{WORKFLOW}: {GATE} → waiting-pr-created, resumed"
    resumes = [(e.epoch, e.outcome) for e in state.history if e.step == "workflow-resume"]
    assert resumes == [(first.epoch, reset), (reply.epoch, reset)]
    assert cleo["spec"]["githubApp"] == "5DLabs-Cleo" and cleo["status"]["phase"] == "Succeeded"
    # the demo push's Cleo had finished at the gate: finished runs are never touched
    runs = demo.coderuns()
    assert runs[demo_cleo["metadata"]["name"]] == demo_cleo
    assert set(runs) == {"rex-task-12", demo_cleo["metadata"]["name"], cleo["metadata"]["name"]}
    assert demo.github_requests() > github  # a new push resets the labels (the counter works)

    version = workflow["metadata"]["resourceVersion"]
    demo.wait_ticks(2)
    assert demo.workflow()["metadata"]["resourceVersion"] == version, "resumed after the gate"


def _past_cleo_on(demo: Demo, head: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The workflow once Cleo ran on ``head`` and it suspended at the gate, and that run."""
    runs = [r for r in demo.coderuns().values() if is_quality(r) and head_of(r) == head]
    if len(runs) != 1 or (runs[0].get("status") or {}).get("phase") != "Succeeded":
        return None
    workflow = demo.workflow()
    name = runs[0]["metadata"]["name"]
    ran = any(
        node.get("displayName") == "quality-work"
        and node["phase"] == "Succeeded"
        and {"name": "coderun-name", "value": name} in _outputs(node)
        for node in workflow["status"]["nodes"].values()
    )
    return (workflow, runs[0]) if ran and waiting_at(workflow) == [GATE] else None


def _outputs(node: dict[str, Any]) -> list[dict[str, Any]]:
    return list((node.get("outputs") or {}).get("parameters") or [])


def _hops(demo: Demo) -> Counter[tuple[str, str]]:
    """How often the broker finished delivering each hop of the first delivery's chain."""
    counts = demo.deliveries()
    return Counter({hop: counts[hop] for hop in CHAIN})


def _history(demo: Demo) -> list[str]:
    return [e.model_dump_json() for e in demo.remediation()[0].history]
