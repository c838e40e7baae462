"""The audit trail: which Kubernetes Events remedy records, on what, and what they say.

Every change remedy makes to the world is also told as a Kubernetes Event
(``events.k8s.io/v1``, ``reportingController: remedy``) on the object it acted on, so
``kubectl describe coderun …`` and ``kubectl get events`` say who touched what and why,
long after the CodeRun is gone. This module is the one list of those Events (README
"Operating remedy" documents it, and the deployment's RBAC is derived from it: each
function may create Events in exactly the namespaces of the objects it writes them on)
and the one way their message is written: the task, the head, the epoch, what was done,
who asked and why.

An Event is recorded only for an effect that happened in the step at hand — a request
written on a run, a run deleted, a workflow replaced, labels written — so a replayed
step, or a repeat that finds the work done, records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

CODERUN_API_VERSION = "agents.platform/v1"
WORKFLOW_API_VERSION = "argoproj.io/v1alpha1"
REPORTING_CONTROLLER = "remedy"
NOTE_LIMIT = 1024
"""What the apiserver accepts in an Event's note (message), in bytes (Go's ``len``)."""
SHORT_SHA = 12
NO_SHA = "0" * 40

EventType = Literal["Normal", "Warning"]
Kind = Literal["CodeRun", "Workflow", "ConfigMap"]


@dataclass(frozen=True)
class ObjectRef:
    """The object an Event is about (its ``regarding``)."""

    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str = ""


def coderun(namespace: str, name: str, uid: str) -> ObjectRef:
    return ObjectRef(CODERUN_API_VERSION, "CodeRun", namespace, name, uid)


def workflow(obj: dict[str, object]) -> ObjectRef:
    """The play workflow, as read from the API (namespace and uid from its metadata)."""
    metadata = obj.get("metadata")
    meta = metadata if isinstance(metadata, dict) else {}
    return ObjectRef(
        str(obj.get("apiVersion") or WORKFLOW_API_VERSION),
        "Workflow",
        str(meta.get("namespace", "")),
        str(meta.get("name", "")),
        str(meta.get("uid", "")),
    )


class Reason(StrEnum):
    CANCELLATION_REQUESTED = "CancellationRequested"
    CANCELLATION_DELETED_BEFORE_START = "CancellationDeletedBeforeStart"
    CANCELLATION_ACKNOWLEDGED = "CancellationAcknowledged"
    CANCELLATION_FORCED = "CancellationForced"
    CANCELLATION_CONFIRMED_GONE = "CancellationConfirmedGone"
    LABELS_RESET = "LabelsReset"
    WORKFLOW_RESUMED = "WorkflowResumed"
    STAGE_RESUMED = "StageResumed"
    RESUME_KEPT = "ResumeKept"
    RESUME_DROPPED = "ResumeDropped"
    REMEDIATION_RUN_STARTED = "RemediationRunStarted"
    REMEDIATION_EXHAUSTED = "RemediationExhausted"


@dataclass(frozen=True)
class Entry:
    """One kind of Event: its reason and action, on what, written by whom, and when."""

    reason: Reason
    action: str
    regarding: tuple[Kind, ...]
    """The kinds it is recorded on, the first where that object still exists."""
    writers: tuple[str, ...]
    """The functions that record it."""
    when: str
    type: EventType = "Normal"


CATALOGUE: tuple[Entry, ...] = (
    Entry(
        Reason.CANCELLATION_REQUESTED, "RequestCancellation", ("CodeRun",),
        ("agent-cancel", "feedback-intake"),
        "a running Cleo/Tess run was asked to stop (the `remedy.dev/cancel-*` annotations "
        "written) for a push, QA feedback or a person's request",
    ),
    Entry(
        Reason.CANCELLATION_DELETED_BEFORE_START, "Delete", ("CodeRun",),
        ("agent-cancel", "feedback-intake"),
        "an obsolete run that had not started was deleted at once",
    ),
    Entry(
        Reason.CANCELLATION_ACKNOWLEDGED, "AcknowledgeCancellation", ("CodeRun", "ConfigMap"),
        ("control-api",),
        "the run's agent acknowledged through control-api and remedy deleted the run (on "
        "the task's state ConfigMap when the run was already gone)",
    ),
    Entry(
        Reason.CANCELLATION_FORCED, "Delete", ("CodeRun",), ("reconciler",),
        "no acknowledgement within the grace period: the reconciler deleted the run with "
        "`gracePeriodSeconds`",
        type="Warning",
    ),
    Entry(
        Reason.CANCELLATION_CONFIRMED_GONE, "ConfirmStopped", ("CodeRun",), ("reconciler",),
        "the reconciler found a cancelled run gone (its finalizers done, or deleted by "
        "someone else) and counted it stopped",
    ),
    Entry(
        Reason.LABELS_RESET, "Relabel", ("ConfigMap",), ("label-update",),
        "the PR's labels were reset for a remediation push (a PR is no Kubernetes object: "
        "the Event is on the task's state ConfigMap)",
    ),
    Entry(
        Reason.WORKFLOW_RESUMED, "Resume", ("Workflow",), ("workflow-resume", "reconciler"),
        "the play workflow was moved to `waiting-pr-created` and resumed for a remediation "
        "(by the reconciler: a kept resume, once the workflow got there)",
    ),
    Entry(
        Reason.STAGE_RESUMED, "Resume", ("Workflow",), ("workflow-resume", "reconciler"),
        "a PR event (opened, ready-for-qa, approved) resumed the workflow at its stage",
    ),
    Entry(
        Reason.RESUME_KEPT, "KeepResume", ("Workflow", "ConfigMap"),
        ("workflow-resume", "reconciler"),
        "the workflow was not at that suspend point yet (or there was no workflow: on the "
        "state ConfigMap); the reconciler applies the resume when it gets there",
    ),
    Entry(
        Reason.RESUME_DROPPED, "DropResume", ("Workflow", "ConfigMap"),
        ("workflow-resume", "reconciler"),
        "a resume is no longer owed (the workflow finished, moved past the stage, was "
        "already resumed for that head or a newer one, or the move is not allowed)",
    ),
    Entry(
        Reason.REMEDIATION_RUN_STARTED, "Create", ("CodeRun",), ("feedback-intake",),
        "QA feedback asked for changes: Rex's remediation run was created",
    ),
    Entry(
        Reason.REMEDIATION_EXHAUSTED, "Escalate", ("ConfigMap",), ("feedback-intake",),
        "QA feedback past `REMEDY_MAX_ITERATIONS`: no run, the PR marked "
        "`failed-remediation`; a person must step in",
        type="Warning",
    ),
)  # fmt: skip

BY_REASON: dict[Reason, Entry] = {entry.reason: entry for entry in CATALOGUE}


def note(*, task_id: int, head: str, epoch: int, what: str, requested_by: str, why: str) -> str:
    """``Task 12, head 2222222222aa, epoch 7: <what>. Requested by <who>: <why>.``"""
    shown = f", head {head[:SHORT_SHA]}" if head and head != NO_SHA else ""
    text = (
        f"Task {task_id}{shown}, epoch {epoch}: {what.rstrip('.')}. "
        f"Requested by {requested_by or 'unknown'}: {why or 'no reason given'}."
    )
    encoded = text.encode()
    if len(encoded) <= NOTE_LIMIT:
        return text
    return encoded[: NOTE_LIMIT - 3].decode(errors="ignore") + "…"
