"""The ``/_emulator/`` admin endpoints, where GitHub has no API.

Behaviours covered:
- no token is 401, a user's token (or any other) is 403, the admin token works;
  admin calls are not counted as GitHub API calls;
- setting a pull request's head SHA (a push) is visible to PyGithub and on the
  timeline; a malformed SHA or unknown pull is refused and changes nothing;
- users with tokens (acting as someone else), organisations without tokens;
- stats and timeline read and clear; reset empties repositories, budgets and faults
  but keeps users and tokens;
- rate limits and faults configured over HTTP act like the in-process ones;
- malformed admin bodies are 422 with the offending field named.
"""

from __future__ import annotations

import pytest
import requests
from github.PullRequest import PullRequest

from remedy.local.emulators.github.records import IssueRef
from remedy.local.emulators.github.server import GitHubEmulator

from .conftest import Http

SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def admin(github: GitHubEmulator) -> Http:
    return Http(github.url, github.admin_token)


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("token {user}", 403), ("token not-the-admin-token", 403)],
)
def test_admin_requires_its_token(
    github: GitHubEmulator, authorization: str | None, status: int
) -> None:
    headers = {}
    if authorization:
        headers["Authorization"] = authorization.format(user=github.token)
    answer = requests.get(f"{github.url}/_emulator/stats", headers=headers, timeout=10)
    assert answer.status_code == status
    assert answer.json()["message"]


def test_admin_calls_are_not_counted(github: GitHubEmulator, admin: Http) -> None:
    admin.get("/_emulator/stats")
    admin.get("/_emulator/timeline")
    assert admin.get("/_emulator/stats").json() == {"requests": {}, "statuses": {}, "total": 0}


def test_set_head_sha_is_what_a_push_looks_like(
    github: GitHubEmulator, admin: Http, pr: PullRequest
) -> None:
    answer = admin.request(
        "PUT", "/_emulator/repos/remedy-bot/demo/pulls/1/head", json={"sha": SHA}
    )
    assert answer.status_code == 200
    assert answer.json()["head"]["sha"] == SHA
    assert github.client().get_repo("remedy-bot/demo").get_pull(1).head.sha == SHA
    assert github.timeline[-1] == f"remedy-bot/demo#1:head:{SHA}"


@pytest.mark.parametrize(
    "case",
    [
        ("/_emulator/repos/remedy-bot/demo/pulls/1/head", {"sha": "not-a-sha"}, 422),
        ("/_emulator/repos/remedy-bot/demo/pulls/1/head", {"sha": SHA, "extra": 1}, 422),
        ("/_emulator/repos/remedy-bot/demo/pulls/9/head", {"sha": SHA}, 404),
        ("/_emulator/repos/remedy-bot/absent/pulls/1/head", {"sha": SHA}, 404),
    ],
)
def test_bad_head_updates_are_refused_and_change_nothing(
    github: GitHubEmulator, admin: Http, pr: PullRequest, case: tuple[str, object, int]
) -> None:
    path, body, status = case
    before = github.timeline
    answer = admin.request("PUT", path, json=body)
    assert answer.status_code == status
    assert github.timeline == before
    pull = github.model.pulls.get(IssueRef("remedy-bot", "demo", 1)).pull
    assert pull is not None
    assert pull.head_sha == pr.head.sha


def test_users_with_tokens_and_organisations(github: GitHubEmulator, admin: Http) -> None:
    made = admin.post("/_emulator/users", json={"login": "5DLabs-Tess", "token": "tess-token-123"})
    assert made.status_code == 201
    assert made.json()["login"] == "5DLabs-Tess"
    assert github.client(token="tess-token-123").get_user().login == "5DLabs-Tess"
    org = admin.post("/_emulator/users", json={"login": "5dlabs", "type": "Organization"})
    assert org.json()["type"] == "Organization"
    bad = admin.post("/_emulator/users", json={"login": "x", "token": "short"})
    assert bad.status_code == 422
    assert any("token" in each for each in bad.json()["errors"])


def test_stats_and_timeline_read_and_clear(
    github: GitHubEmulator, admin: Http, pr: PullRequest
) -> None:
    pr.add_to_labels("ready-for-qa")
    stats = admin.get("/_emulator/stats").json()
    assert stats["requests"]["POST /repos/{owner}/{repo}/issues/{number}/labels"] == 1
    effects = admin.get("/_emulator/timeline").json()["effects"]
    assert effects[-1] == "remedy-bot/demo#1:+label:ready-for-qa"
    assert admin.request("DELETE", "/_emulator/stats").status_code == 204
    assert admin.request("DELETE", "/_emulator/timeline").status_code == 204
    assert github.stats == {}
    assert github.timeline == []


def test_reset_keeps_users_and_tokens(github: GitHubEmulator, admin: Http, pr: PullRequest) -> None:
    tess = github.add_user("5DLabs-Tess")
    github.primary.configure(limit=10)
    github.primary.set_remaining("remedy-bot", 0)
    assert admin.post("/_emulator/reset").status_code == 204
    gh = github.client()
    assert gh.get_user().login == "remedy-bot"  # budget is fresh again
    assert github.client(token=tess).get_user().login == "5DLabs-Tess"
    assert github.model.store.repos == {}
    assert github.timeline == []


def test_rate_limits_configured_over_http(github: GitHubEmulator, admin: Http, http: Http) -> None:
    config = admin.request(
        "PUT",
        "/_emulator/ratelimit/primary",
        json={"limit": 50, "login": "remedy-bot", "remaining": 0},
    )
    assert config.status_code == 200
    assert config.json()["primary"]["limit"] == 50
    refused = http.get("/user")
    assert (refused.status_code, refused.headers["x-ratelimit-limit"]) == (403, "50")
    admin.request(
        "PUT", "/_emulator/ratelimit/primary", json={"login": "remedy-bot", "remaining": 50}
    )
    admin.post("/_emulator/ratelimit/secondary/trip", json={"status": 429, "retry_after": 3})
    tripped = http.get("/user")
    assert (tripped.status_code, tripped.headers["Retry-After"]) == (429, "3")
    admin.request("PUT", "/_emulator/ratelimit/secondary", json={"max_requests": 1, "status": 429})
    assert http.get("/user").status_code == 200
    assert http.get("/user").status_code == 429
    assert admin.request("DELETE", "/_emulator/ratelimit/secondary").status_code == 204
    assert http.get("/user").status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"limit": -1},
        {"status": 500},
        {"login": "remedy-bot"},
        {"window_seconds": 0},
    ],
)
def test_bad_rate_limit_config_is_422(github: GitHubEmulator, admin: Http, body: object) -> None:
    answer = admin.request("PUT", "/_emulator/ratelimit/primary", json=body)
    assert answer.status_code == 422
    assert github.primary.limit == 5000


def test_faults_over_http(admin: Http, http: Http) -> None:
    armed = admin.post(
        "/_emulator/faults",
        json={"status": 500, "method": "GET", "endpoint": "/user", "count": 2, "message": "boom"},
    )
    assert armed.status_code == 201
    assert [http.get("/user").status_code for _ in range(3)] == [500, 500, 200]
    admin.post("/_emulator/faults", json={"status": 503, "count": None})
    assert http.get("/user").status_code == 503
    assert admin.request("DELETE", "/_emulator/faults").status_code == 204
    assert http.get("/user").status_code == 200
    assert admin.post("/_emulator/faults", json={"status": 200}).status_code == 422
