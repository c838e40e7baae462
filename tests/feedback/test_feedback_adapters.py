"""feedback-intake's two adapters against the emulators, with the real client libraries.

Covers: KubeRemediationRuns creates a run in its namespace (answering its uid, which
names it in its Event), answers "exists" for a
second create of the same name (409), rejects a body the CRD schema refuses (422) and
asks for a retry on a 5xx; PullHeadsClient reads a pull request's head branch and
commit in one request and answers None for a pull request that does not exist.
"""

from __future__ import annotations

import copy

import pytest
from kubernetes import client

from remedy.adapters.github.pull_heads import PullHeadsClient
from remedy.adapters.github.settings import GitHubSettings
from remedy.adapters.kube.runs import KubeRemediationRuns
from remedy.domain import feedback as rules
from remedy.domain.feedback import Feedback, RexRunSpec
from remedy.domain.identifiers import Repository
from remedy.local.emulators.github.server import GitHubEmulator
from remedy.local.emulators.kube import KubeEmulator
from remedy.ports import Rejected, RetryLater
from tests.chain import seed
from tests.feedback import support

FEEDBACK = Feedback(
    kind="comment",
    feedback_id=11,
    repository=Repository.parse(seed.REPO),
    pr_number=4,
    author=support.TESS,
    labels=("task-12",),
    head_ref="",
    head_sha="",
)


NAME = "rex-remediation-t12-i1"


def body(iteration: int = 1) -> dict[str, object]:
    return rules.remediation_run(
        spec=RexRunSpec(github_app="5DLabs-Rex"), feedback=FEEDBACK, task_id=12, iteration=iteration
    )


def test_a_run_is_created_once_and_a_second_create_finds_it(
    api: client.ApiClient, custom: client.CustomObjectsApi
) -> None:
    runs = KubeRemediationRuns(api, namespace=seed.AGENT_NS)

    made = runs.create(body())
    assert (made.outcome, made.namespace, made.name) == ("created", seed.AGENT_NS, NAME)
    assert made.uid == support.remediation_runs(custom)[NAME]["metadata"]["uid"]
    assert runs.create(body()).outcome == "exists"
    assert list(support.remediation_runs(custom)) == [NAME]


def test_a_body_the_crd_refuses_is_rejected_and_a_5xx_retried(
    api: client.ApiClient, kube: KubeEmulator
) -> None:
    runs = KubeRemediationRuns(api, namespace=seed.AGENT_NS)
    invalid = copy.deepcopy(body())
    del invalid["spec"]["model"]  # type: ignore[attr-defined]

    with pytest.raises(Rejected, match="422"):
        runs.create(invalid)
    kube.faults.add("status", verb="create", resource="coderuns", status=503, count=1)
    with pytest.raises(RetryLater, match="503"):
        runs.create(body(2))


def test_the_pull_request_head_is_read_in_one_request(github: GitHubEmulator) -> None:
    pr = seed.pull_request(github, branch=support.BRANCH, labels=[])
    heads = PullHeadsClient(GitHubSettings(token=github.token, api_url=github.url))

    head = heads.head_of(seed.REPO, pr.number)

    assert head is not None
    assert head.ref == support.BRANCH
    assert len(head.sha) == 40
    assert heads.requests_made == 1
    assert heads.head_of(seed.REPO, pr.number + 100) is None
