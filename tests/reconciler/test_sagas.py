"""The reconciler re-drives stuck sagas from their recovery point, and only stuck ones.

Covers, on the emulated platform: a remediation whose ``agents.cancelled`` never
reached label-update is left alone until REMEDY_SAGA_DEADLINE_SECONDS passed without
progress, then label-update's input is re-sent — the very event agent-cancel replied
(same id, source, time, trace, data), read from the ledger — once per deadline, and
the chain finishes from it; the same when label-update's claim was abandoned by a
crashed holder (lease expired: counted, and RESUMEd by the re-sent event) or failed;
a lost ``agents.stopped`` (the broker refused it) is sent again once the saga deadline
passed, and the workflow resumes with it; after REMEDY_MAX_REDRIVES re-drives it gives
up with a note in the history and stays quiet; so it does at once when the ledger holds
nothing left to send.

And the walk itself, table-driven over ledger entries: which step's input is re-sent
(missing, failed or expired-claim steps after a completed one), when nothing is
(a live claim, a step that only acknowledged, no recorded input at all), and which of
those are hopeless.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Literal

import pytest
import redis
from cloudevents.conversion import to_json
from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates
from remedy.adapters.redis.ledger import Ledger
from remedy.adapters.redis.ledger_keys import LedgerKey
from remedy.domain.agents import parse_time
from remedy.events.models import RemediationRequested
from remedy.handlers.common.once import fingerprint_of, scoped_source
from remedy.handlers.reconciler import sagas
from remedy.handlers.reconciler.reconciler import Reconciler
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.ports import LedgerRecord
from tests.chain import seed
from tests.reconciler.conftest import (
    BRANCH,
    Clock,
    MemorySink,
    deadline_of,
    drive,
    push,
    stage,
    state_of,
    stopped_id_of,
)
from tests.support.events import acked, reply
from tests.support.waiting import eventually

DEADLINE = timedelta(seconds=60)


def last_progress(states: KubeRemediationStates) -> Any:
    moment = parse_time(state_of(states).history[-1].at)
    assert moment is not None
    return moment


def start_and_lose_label_updates_input(
    apps: dict[str, Any], custom: client.CustomObjectsApi, github: GitHubEmulator, delivery: str
) -> CloudEvent:
    """The push goes through agent-cancel (and on to workflow-resume, which waits for the
    labels), but label-update never gets "remediation requested"."""
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    requested = reply(apps["push-intake"], push(delivery=delivery))
    acked(apps["workflow-resume"], reply(apps["agent-cancel"], requested))
    return requested


def abandon(ledger: Ledger, key: LedgerKey, fingerprint: str) -> None:
    """label-update took the event and its process died: the claim's lease runs out."""
    ledger.begin(key, fingerprint=fingerprint, lease_s=0.05)
    eventually(
        lambda: (entry := ledger.get(key)) is not None and entry.lease_remaining_s == 0,
        timeout=5.0,
        every=0.005,
        what="the abandoned claim's lease to run out",
        describe=lambda: f"ledger entry: {ledger.get(key)}",
    )


def fail(ledger: Ledger, key: LedgerKey, fingerprint: str) -> None:
    ledger.fail(ledger.begin(key, fingerprint=fingerprint), "TimeoutError: GitHub did not answer")


@pytest.mark.parametrize(
    ("label_update_claim", "why", "expired"),
    [
        (None, "it never took it", 0),
        (abandon, "its holder vanished", 1),
        (fail, "its attempt failed: TimeoutError", 0),
    ],
    ids=["lost", "holder-crashed", "failed"],
)
def test_a_stuck_saga_gets_its_next_input_again_from_the_ledger(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    redis_urls: list[str],
    label_update_claim: Callable[[Ledger, LedgerKey, str], None] | None,
    why: str,
    expired: int,
) -> None:
    requested = start_and_lose_label_updates_input(apps, custom, github, "d-7")
    if label_update_claim is not None:
        data = RemediationRequested.model_validate(requested.get_data()).model_dump(mode="json")
        key = LedgerKey.for_event(
            scoped_source("label-update", "/remedy/push-intake"), "d-7:remediation.requested"
        )
        label_update_claim(Ledger.from_urls(redis_urls), key, fingerprint_of(data))

    clock.now = last_progress(states) + DEADLINE - timedelta(seconds=1)
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert memory_sink.events == []

    clock.now += timedelta(seconds=2)
    report = reconciler.tick().task(12)
    assert report is not None
    assert f"re-sent d-7:remediation.requested to label-update ({why}" in report.redrive
    assert report.expired_claims == expired
    (resent,) = memory_sink.events
    assert resent.get_attributes() == requested.get_attributes()
    assert resent.get_data() == requested.get_data()
    assert state_of(states).history[-1].outcome.startswith("re-drive: re-sent")

    reconciler.tick()
    assert len(memory_sink.events) == 1, "the re-drive itself is progress: one per deadline"

    labelled = reply(apps["label-update"], resent)
    resumed = reply(apps["workflow-resume"], labelled)
    assert resumed["type"] == "dev.remedy.workflow.resumed"
    assert stage(custom) == "waiting-pr-created"
    clock.advance(3600)
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    assert len(memory_sink.events) == 1


def test_a_lost_agents_stopped_is_sent_again_after_the_saga_deadline(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
) -> None:
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    seed.play_workflow(custom, task=12, stage="waiting-ready-for-qa")
    seed.pull_request(github, branch=BRANCH, labels=["ready-for-qa"])
    _, cancelled, labelled = drive(apps, "d-8")
    acked(apps["workflow-resume"], cancelled)  # Cleo has not stopped yet
    acked(apps["workflow-resume"], labelled)

    memory_sink.failing = True
    clock.now = deadline_of(states, f"{seed.AGENT_NS}/cleo-12") + timedelta(seconds=1)
    report = reconciler.tick().task(12)
    assert report is not None and report.forced and report.error.startswith("sending")
    memory_sink.failing = False

    clock.now = last_progress(states) + DEADLINE - timedelta(seconds=1)
    reconciler.tick()
    assert memory_sink.events == []
    clock.now += timedelta(seconds=2)
    report = reconciler.tick().task(12)
    assert report is not None
    stopped_id = stopped_id_of(states, "d-8")
    assert report.redrive == f"re-sent agents.stopped {stopped_id} to workflow-resume"
    (stopped,) = memory_sink.events
    assert stopped["source"] == "/remedy/reconciler"
    resumed = reply(apps["workflow-resume"], stopped)
    assert resumed.get_data()["to_stage"] == "waiting-pr-created"


def test_it_gives_up_after_the_maximum_number_of_re_drives(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    make_reconciler: Callable[[], Reconciler],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REMEDY_MAX_REDRIVES", "1")
    reconciler = make_reconciler()
    start_and_lose_label_updates_input(apps, custom, github, "d-9")
    for _ in range(3):
        clock.now = last_progress(states) + DEADLINE + timedelta(seconds=1)
        reconciler.tick()
    assert len(memory_sink.events) == 1
    outcomes = [e.outcome for e in state_of(states).history if e.step == "reconciler"]
    assert len(outcomes) == 2
    assert outcomes[0].startswith("re-drive: re-sent d-9:remediation.requested")
    assert outcomes[1].startswith("re-drive: gave up after 1 attempts")


def test_a_saga_with_nothing_left_to_send_is_given_up_once(
    apps: dict[str, Any],
    custom: client.CustomObjectsApi,
    github: GitHubEmulator,
    reconciler: Reconciler,
    clock: Clock,
    memory_sink: MemorySink,
    states: KubeRemediationStates,
    redis_urls: list[str],
) -> None:
    start_and_lose_label_updates_input(apps, custom, github, "d-10")
    redis.Redis.from_url(redis_urls[0]).flushall()  # the ledger's records are gone
    clock.now = last_progress(states) + DEADLINE + timedelta(seconds=1)
    report = reconciler.tick().task(12)
    assert report is not None
    assert report.redrive.startswith("re-drive: gave up with nothing left to send")
    assert memory_sink.events == []
    clock.advance(3600)
    report = reconciler.tick().task(12)
    assert report is not None and report.skipped == "nothing to do"
    gave_up = [e for e in state_of(states).history if e.outcome.startswith("re-drive: gave up")]
    assert len(gave_up) == 1


# -- the walk, over an in-memory ledger ---------------------------------------------------

BRANCHES = sagas.chain("5dlabs/cto", "d-1")


def _name(link: sagas.Link) -> str:
    """workflow-resume is in both branches: named by the producer it takes from there."""
    if link.consumer != "workflow-resume":
        return link.consumer
    return "workflow-resume@" + link.source.rsplit("/", 1)[-1]


def _reply(name: str) -> str:
    event = CloudEvent({"type": f"test.{name}", "source": "/test", "id": f"d-1:{name}"}, {})
    return to_json(event).decode()


def _entry(
    status: Literal["in_progress", "failed", "done"],
    *,
    result: Mapping[str, Any] | None = None,
    lease: float | None = None,
) -> LedgerRecord:
    return LedgerRecord(
        status=status,
        result=result,
        last_error="boom" if status == "failed" else None,
        lease_remaining_s=lease,
    )


DONE = "done"
ACK = "ack"
FAILED = "failed"
LIVE = "live"
EXPIRED = "expired"


class MemoryLedger:
    """The :class:`~remedy.ports.LedgerRecords` port over a dict, keyed as run_once keys."""

    def __init__(self, states: Mapping[str, str]) -> None:
        self.entries: dict[tuple[str, str], LedgerRecord] = {}
        for link in {link for branch in BRANCHES for link in branch}:
            kind = states.get(_name(link))
            if kind == DONE:
                entry = _entry("done", result={"event": _reply(link.consumer)})
            elif kind == ACK:
                entry = _entry("done", result={"ack": "superseded"})
            elif kind == FAILED:
                entry = _entry("failed")
            elif kind in (LIVE, EXPIRED):
                entry = _entry("in_progress", lease=5.0 if kind == LIVE else 0.0)
            else:
                continue
            self.entries[(scoped_source(link.consumer, link.source), link.event_id)] = entry

    def record(self, *, source: str, event_id: str) -> LedgerRecord | None:
        return self.entries.get((source, event_id))


WR_CANCEL, WR_LABELS = "workflow-resume@agent-cancel", "workflow-resume@label-update"


@pytest.mark.parametrize(
    ("states", "resent_from", "note", "expired", "completed", "hopeless"),
    [
        ({}, [], "no step left to re-drive from", 0, False, True),
        (
            {"push-intake": DONE},
            ["push-intake"],  # once, though both branches need it
            "to agent-cancel (it never took it)",
            0,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": DONE, WR_CANCEL: ACK},
            ["push-intake"],
            "to label-update (it never took it)",
            0,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": FAILED, "label-update": DONE, WR_LABELS: ACK},
            ["push-intake"],
            "failed: boom",
            0,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": EXPIRED, "label-update": LIVE},
            ["push-intake"],
            "vanished",
            1,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": LIVE, "label-update": LIVE},
            [],
            "working on it",
            0,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": DONE, "label-update": DONE},
            ["agent-cancel", "label-update"],
            "to workflow-resume",
            0,
            False,
            False,
        ),
        (
            {"push-intake": DONE, "agent-cancel": ACK, "label-update": ACK},
            [],
            "acknowledged: superseded",
            0,
            False,
            True,
        ),
        (
            {"push-intake": DONE, "agent-cancel": DONE, "label-update": DONE}
            | {WR_CANCEL: ACK, WR_LABELS: ACK},
            [],
            "workflow-resume acknowledged",
            0,
            True,
            False,
        ),
        ({"agent-cancel": EXPIRED}, [], "no step left", 1, False, True),
    ],
)
def test_the_walk_re_sends_the_input_of_the_first_step_not_done_on_each_branch(
    states: dict[str, str],
    resent_from: list[str],
    note: str,
    expired: int,
    completed: bool,
    hopeless: bool,
) -> None:
    found = sagas.walk(MemoryLedger(states), BRANCHES)
    assert [event["type"] for event in found.events] == [f"test.{n}" for n in resent_from]
    assert note in found.note
    assert (found.expired_claims, found.completed, found.hopeless) == (
        expired,
        completed,
        hopeless,
    )
