"""feedback-intake under crashes and concurrency, on the emulated platform.

Covers: a failure after the iteration was counted (the CodeRun create answers 500)
is retried with the *same* iteration and creates the run then, and so is one whose
label writes failed when the ledger lost the attempt's record (the state is the
backstop); a failure after every
outside write (the final state save) is retried without a second run or label write;
feedback resumed after a newer iteration was counted still gets its run but leaves
the labels to the newer iteration (no GitHub request: a ready-for-qa put back since
stays); feedback arriving at once from several threads —
different comments, and one delivery twice — is counted 1..n with one run per
iteration, never two runs for one iteration and none for a duplicate.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from cloudevents.http import from_http
from kubernetes import client

from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from tests.chain import seed
from tests.feedback import support
from tests.feedback.support import comment
from tests.support.events import acked, post, reply

pytestmark = pytest.mark.usefixtures("agents")
LABELS = "/repos/{owner}/{repo}/issues/{number}/labels"
ADD_LABELS = f"POST {LABELS}"
REMOVE_LABEL = "DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}"


def test_a_failure_after_counting_is_retried_with_the_same_iteration(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
) -> None:
    kube.faults.add("status", verb="create", resource="coderuns", status=500, count=1)
    feedback = comment(comment_id=3001, number=pr.number)

    failed = post(app, feedback)

    assert failed.status_code == 503, failed.get_data(as_text=True)
    counted = support.state(api)
    assert counted is not None
    assert (counted.iteration, counted.feedback_ids) == (1, ["comment:3001"])
    assert support.remediation_runs(custom) == {}

    retried = reply(app, feedback)

    assert support.data_of(retried)["iteration"] == 1
    assert list(support.remediation_runs(custom)) == ["rex-remediation-t12-i1"]
    saved = support.state(api)
    assert saved is not None
    assert saved.iteration == 1
    assert "iteration-1" in seed.pr_labels(github, pr)


def test_a_failure_after_every_outside_write_is_retried_without_repeating_them(
    app: Any,
    api: client.ApiClient,
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
) -> None:
    feedback = comment(comment_id=3101, number=pr.number)
    # the first save creates the state ConfigMap; the final one updates it
    kube.faults.add("status", verb="update", resource="configmaps", status=500, count=1)
    kube.stats.reset()
    github.backend.stats.reset()

    assert post(app, feedback).status_code == 503
    assert list(support.remediation_runs(custom)) == ["rex-remediation-t12-i1"]
    retried = reply(app, feedback)

    assert support.data_of(retried)["iteration"] == 1
    assert kube.stats.snapshot().get("create coderuns") == 1
    assert github.backend.stats.requests() == {REMOVE_LABEL: 1, ADD_LABELS: 1}
    saved = support.state(api)
    assert saved is not None
    assert saved.iteration == 1
    assert any("run rex-remediation-t12-i1 created" in e.outcome for e in saved.history)


def test_counted_feedback_whose_effects_failed_is_redone_after_the_ledger_lost_it(
    app: Any,
    api: client.ApiClient,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
    redis_urls: list[str],
) -> None:
    """A Redis failover loses the attempt's record; the state still says the feedback
    was counted but not that its labels were written: the redelivery writes them."""
    github.backend.faults.add(Fault(status=503, method="POST", endpoint=LABELS, count=3))
    feedback = comment(comment_id=3301, number=pr.number)
    assert post(app, feedback).status_code == 503
    counted = support.state(api)
    assert counted is not None and (counted.iteration, counted.feedback_done) == (1, 0)
    for url in redis_urls:
        redis.Redis.from_url(url).flushall()

    retried = reply(app, feedback)

    assert support.data_of(retried)["iteration"] == 1
    assert "iteration-1" in seed.pr_labels(github, pr)
    saved = support.state(api)
    assert saved is not None and (saved.iteration, saved.feedback_done) == (1, 1)
    for url in redis_urls:  # and once done, the state alone makes it a duplicate
        redis.Redis.from_url(url).flushall()
    github.backend.stats.reset()
    acked(app, feedback)
    assert github.backend.stats.requests() == {}


def test_feedback_resumed_after_a_newer_iteration_keeps_the_newer_labels(
    app: Any,
    custom: client.CustomObjectsApi,
    kube: KubeEmulator,
    github: GitHubEmulator,
    pr: seed.PullRequestSeed,
) -> None:
    kube.faults.add("status", verb="create", resource="coderuns", status=500, count=1)
    older = comment(comment_id=3201, number=pr.number)
    assert post(app, older).status_code == 503
    newer = reply(app, comment(comment_id=3202, number=pr.number))
    assert support.data_of(newer)["iteration"] == 2
    github.model.labels.add(pr.ref, ["ready-for-qa"])  # Cleo passed iteration 2's work
    github.backend.stats.reset()

    resumed = reply(app, older)

    assert support.data_of(resumed)["iteration"] == 1
    assert set(support.remediation_runs(custom)) == {
        "rex-remediation-t12-i1",
        "rex-remediation-t12-i2",
    }
    assert seed.pr_labels(github, pr) == {
        "task-12",
        "remediation-in-progress",
        "iteration-2",
        "ready-for-qa",
    }
    assert github.backend.stats.requests() == {}  # no label write for the older iteration


def test_concurrent_feedback_is_counted_once_each_with_one_run_per_iteration(
    app: Any, api: client.ApiClient, custom: client.CustomObjectsApi, pr: seed.PullRequestSeed
) -> None:
    acked(app, comment(comment_id=1, number=pr.number, author="octocat"))  # warm up
    repeated = comment(comment_id=3300, number=pr.number)
    others = [comment(comment_id=3301 + i, number=pr.number) for i in range(3)]
    events = [repeated, repeated, *others]
    answers: list[Any] = [None] * len(events)
    start = threading.Barrier(len(events))

    def send(index: int) -> None:
        client_of_thread = app.application.test_client()
        start.wait()
        answers[index] = support.deliver(client_of_thread, events[index])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(events))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert all(a is not None and a.status_code == 200 for a in answers), [
        (a.status_code, a.get_data(as_text=True)) if a is not None else None for a in answers
    ]
    iterations = [_iteration(answer) for answer in answers]
    assert iterations[0] == iterations[1]  # one delivery, one iteration
    assert sorted(iterations[1:]) == [1, 2, 3, 4]
    runs = support.remediation_runs(custom)
    assert set(runs) == {f"rex-remediation-t12-i{n}" for n in (1, 2, 3, 4)}
    assert sorted(r["metadata"]["labels"]["remediation-iteration"] for r in runs.values()) == [
        "1",
        "2",
        "3",
        "4",
    ]
    saved = support.state(api)
    assert saved is not None
    assert saved.iteration == 4
    assert sorted(saved.feedback_ids) == [f"comment:{n}" for n in (3300, 3301, 3302, 3303)]


def _iteration(response: Any) -> int:
    event = from_http(dict(response.headers), response.get_data())
    return int(support.data_of(event)["iteration"])
