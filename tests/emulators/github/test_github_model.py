"""The in-memory model is the served state, stays consistent under concurrency, and
refuses bad input without changing anything.

Behaviours covered:
- state seeded on ``github.model`` is what PyGithub reads over HTTP, and writes made
  through PyGithub are visible on the model (one piece of code, not two);
- refused operations (bad labels on a new issue, bad state, unknown repository)
  leave numbers, labels and the timeline untouched;
- concurrent label writes from 8 threads over HTTP lose nothing: every add lands,
  and add/remove races keep the label list, the timeline and the answers agreeing;
- ``RepoRef.parse`` accepts ``owner/name`` only.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from remedy.local.emulators.github.errors import ApiError
from remedy.local.emulators.github.records import IssueRef, RepoRef
from remedy.local.emulators.github.server import GitHubEmulator

DEMO = RepoRef("remedy-bot", "demo")


def seed(github: GitHubEmulator) -> IssueRef:
    model = github.model
    model.repos.create(DEMO, actor="remedy-bot")
    return model.pulls.create(
        DEMO, title="T", head="feature/x", base="main", actor="5DLabs-Rex"
    ).ref


def test_model_seeding_is_what_the_api_serves(github: GitHubEmulator) -> None:
    ref = seed(github)
    github.model.labels.add(ref, ["ready-for-qa"])
    pr = github.client().get_repo("remedy-bot/demo").get_pull(ref.number)
    assert pr.user.login == "5DLabs-Rex"
    assert [each.name for each in pr.labels] == ["ready-for-qa"]
    pr.remove_from_labels("ready-for-qa")
    pr.add_to_labels("remediation-in-progress")
    assert [each.name for each in github.model.labels.on_issue(ref)] == ["remediation-in-progress"]


def test_refused_operations_change_nothing(github: GitHubEmulator) -> None:
    ref = seed(github)
    before = github.timeline
    repo = github.model.repos.get(DEMO)
    with pytest.raises(ApiError) as bad_label:
        github.model.issues.create(DEMO, title="x", actor="remedy-bot", labels=["ok", ""])
    assert bad_label.value.status == 422
    with pytest.raises(ApiError):
        github.model.issues.update(ref, title="renamed", state="merged")  # type: ignore[arg-type]
    with pytest.raises(ApiError) as missing:
        github.model.labels.add(RepoRef("remedy-bot", "absent").issue(1), ["x"])
    assert missing.value.status == 404
    assert repo.next_number == 2
    assert github.model.issues.get(ref).title == "T"
    assert "ok" not in repo.labels
    assert github.timeline == before


def test_concurrent_adds_all_land(github: GitHubEmulator) -> None:
    ref = seed(github)
    url = f"{github.url}/repos/remedy-bot/demo/issues/{ref.number}/labels"
    local = threading.local()

    def add(n: int) -> int:
        if not hasattr(local, "session"):
            local.session = requests.Session()
            local.session.headers["Authorization"] = f"token {github.token}"
        return int(local.session.post(url, json=[f"label-{n}"], timeout=10).status_code)

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(add, range(64)))
    assert statuses == [200] * 64
    assert sorted(each.name for each in github.model.labels.on_issue(ref)) == sorted(
        f"label-{n}" for n in range(64)
    )
    assert github.stats["POST /repos/{owner}/{repo}/issues/{number}/labels"] == 64


def test_add_remove_races_stay_consistent(github: GitHubEmulator) -> None:
    ref = seed(github)
    base = f"{github.url}/repos/remedy-bot/demo/issues/{ref.number}/labels"

    def churn(_: int) -> list[int]:
        with requests.Session() as session:
            session.headers["Authorization"] = f"token {github.token}"
            removes = []
            for _round in range(15):
                session.post(base, json=["ready-for-qa"], timeout=10)
                removes.append(session.delete(f"{base}/ready-for-qa", timeout=10).status_code)
            return removes

    with ThreadPoolExecutor(8) as pool:
        removes = [status for each in pool.map(churn, range(8)) for status in each]
    assert set(removes) <= {200, 404}
    added = github.timeline.count("remedy-bot/demo#1:+label:ready-for-qa")
    removed = github.timeline.count("remedy-bot/demo#1:-label:ready-for-qa")
    present = [each.name for each in github.model.labels.on_issue(ref)] == ["ready-for-qa"]
    assert removed == removes.count(200)
    assert added == removed + (1 if present else 0)


@pytest.mark.parametrize("text", ["no-slash", "a/b/c", "/b", "a/"])
def test_repo_ref_parse_rejects_anything_but_owner_slash_name(text: str) -> None:
    with pytest.raises(ValueError, match="owner/name"):
        RepoRef.parse(text)


def test_repo_ref_parse_and_names() -> None:
    ref = RepoRef.parse("5dlabs/cto")
    assert (str(ref), str(ref.issue(5))) == ("5dlabs/cto", "5dlabs/cto#5")
