"""The PR label writes of counted feedback: each one a ledger step, made at most once.

QA rejected the PR, so within the maximum the labels go ``-ready-for-qa`` (every label
of ``REMEDY_LABELS_REMOVE``, the list label-update removes for a push, so both paths
agree), ``+remediation-in-progress +iteration-<n>`` (one request), then
``-iteration-<n-1>``; past the maximum ``-ready-for-qa +failed-remediation``. The new
iteration label goes on before the old one comes off, so the PR always shows one.
Single adds and removes only: GitHub has no compare-and-swap for labels, and a 404 on
a removal means the label was already gone.

GitHub requests per counted feedback (default labels, retries of a failed request aside):

=====================================  ============================================
iteration 1                            2: DELETE ready-for-qa, POST the two labels
iteration n ≥ 2                        3: the same, then DELETE iteration-<n-1>
past the maximum                       2: DELETE ready-for-qa, POST failed-remediation
a comment whose labels name no task    1 more: GET the pull request (its head branch)
=====================================  ============================================

In general: one DELETE per ``REMEDY_LABELS_REMOVE`` label, one POST, one DELETE from
iteration 2 on. The PR is never looked up (``find_open``): the event names it. The read
is :mod:`remedy.handlers.feedback.targets`'s, a recorded step too. A duplicate (the same
delivery again, or the same feedback in another delivery) costs 0 requests; a retry
after a crash makes only the writes not yet recorded (a crash between a write and its
record repeats that one write, which changes nothing the second time); an older
iteration resumed after a newer one was counted makes none, leaving the labels to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from remedy.handlers.common.tasks import TaskStep
from remedy.ports import PullRequests, Steps

DONE = "labels"
"""The step recorded once every write is; a retry that finds it writes nothing. (The
name is the one all the writes shared before each had a step of its own, so a retry of
a delivery begun by that version finds its writes done too.)"""


@dataclass(frozen=True)
class LabelMove:
    """What one counted feedback does to its PR's labels, in this order."""

    remove: Sequence[str]
    add: Sequence[str]
    drop: Sequence[str] = ()


def move(
    prs: PullRequests,
    task: TaskStep,
    *,
    pull: tuple[str, int],
    iteration: int,
    labels: LabelMove,
    steps: Steps,
) -> str:
    """Make the label writes not recorded yet; a note of what was done."""
    done = steps.get(DONE)
    if done is None:
        newest = task.state.iteration
        if newest != iteration:
            done = {"note": f"labels left to the newer iteration {newest}"}
        else:
            writes = _Writes(prs, task, steps, pull)
            removed = writes.remove(labels.remove, step="labels-removed")
            writes.add(labels.add, step="labels-added")
            removed += writes.remove(labels.drop, step="labels-dropped")
            done = {"note": f"PR #{pull[1]}: -{removed} +{list(labels.add)}"}
        steps.record(DONE, done)
    return str(done["note"])


class _Writes:
    def __init__(
        self, prs: PullRequests, task: TaskStep, steps: Steps, pull: tuple[str, int]
    ) -> None:
        self._prs, self._task, self._steps = prs, task, steps
        self._repository, self._number = pull

    def remove(self, labels: Sequence[str], *, step: str) -> list[str]:
        """Remove each label (one request each, recorded); those that were on the PR."""
        removed = []
        for index, label in enumerate(labels):
            name = f"{step}-{index}"  # label names may hold what step names may not
            done = self._steps.get(name)
            if done is None:
                self._task.guard()
                was_on = self._prs.remove_label(self._repository, self._number, label)
                done = {"label": label, "removed": was_on}
                self._steps.record(name, done)
            if done["removed"]:
                removed.append(str(done["label"]))
        return removed

    def add(self, labels: Sequence[str], *, step: str) -> None:
        """Add every label in one request, recorded."""
        if labels and self._steps.get(step) is None:
            self._task.guard()
            self._prs.add_labels(self._repository, self._number, labels)
            self._steps.record(step, {"labels": list(labels)})
