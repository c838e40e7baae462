"""HTTP-level fidelity: authentication, conditional requests, rate limits, faults, stats.

Behaviours covered:
- no token is 401 ``Requires authentication``; a wrong one is 401 ``Bad credentials``
  (PyGithub raises ``BadCredentialsException``); ``Bearer`` and Basic work too;
- GET answers carry a strong ETag; ``If-None-Match`` with it (or its weak form, or
  ``*``) answers 304 with no body, and a 304 does not spend the primary budget;
  PyGithub's ``update()`` sees the 304 and reports "unchanged";
- every answer carries ``x-ratelimit-*``; ``remaining`` goes down by one per call;
  ``GET /rate_limit`` is free;
- an exhausted primary budget is 403 (or 429 when configured) with
  ``x-ratelimit-remaining: 0`` and the reset time; PyGithub raises
  ``RateLimitExceededException``; the budget is per user, not per token;
- secondary limits: forced trips and a sliding window answer 403/429 with
  ``Retry-After``; PyGithub's own ``GithubRetry`` waits and succeeds;
- injected faults answer the chosen status for the chosen endpoint, then stop;
- unknown routes are 404 with GitHub's error shape;
- per-endpoint request counts (templated) including 304s and errors.
"""

from __future__ import annotations

import base64
import time

import pytest
from github import BadCredentialsException, GithubException, GithubRetry, RateLimitExceededException
from github.PullRequest import PullRequest

from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.server import GitHubEmulator
from tests.support.waiting import eventually

from .conftest import Http

PULL = "/repos/remedy-bot/demo/pulls/1"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [(None, "Requires authentication"), ("token wrong-token-123", "Bad credentials")],
)
def test_missing_or_wrong_token_is_401(
    github: GitHubEmulator, http: Http, authorization: str | None, message: str
) -> None:
    http.session.headers.pop("Authorization")
    headers = {"Authorization": authorization} if authorization else {}
    answer = http.get("/user", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["message"] == message
    assert answer.json()["documentation_url"].startswith("https://docs.github.com/")


def test_pygithub_bad_credentials(github: GitHubEmulator) -> None:
    with pytest.raises(BadCredentialsException):
        github.client(token="not-a-real-token").get_user().login  # noqa: B018


@pytest.mark.parametrize("scheme", ["Bearer", "Basic"])
def test_bearer_and_basic_authenticate(github: GitHubEmulator, http: Http, scheme: str) -> None:
    value = github.token
    if scheme == "Basic":
        value = base64.b64encode(f"x-access-token:{github.token}".encode()).decode()
    answer = http.get("/user", headers={"Authorization": f"{scheme} {value}"})
    assert answer.status_code == 200
    assert answer.json()["login"] == "remedy-bot"


def test_if_none_match_answers_304_without_spending_budget(http: Http, pr: PullRequest) -> None:
    """docs.github.com/rest/using-the-rest-api/best-practices-for-using-the-rest-api:
    a conditional request answered 304 does not count against the primary limit."""
    first = http.get(PULL)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # strong
    remaining = int(first.headers["x-ratelimit-remaining"])
    for validator in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        again = http.get(PULL, headers={"If-None-Match": validator})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["ETag"] == etag
        assert int(again.headers["x-ratelimit-remaining"]) == remaining
    changed = http.get(PULL, headers={"If-None-Match": '"stale"'})
    assert changed.status_code == 200
    assert int(changed.headers["x-ratelimit-remaining"]) == remaining - 1


def test_etag_changes_when_the_resource_does(http: Http, pr: PullRequest) -> None:
    etag = http.get(PULL).headers["ETag"]
    pr.add_to_labels("ready-for-qa")
    answer = http.get(PULL, headers={"If-None-Match": etag})
    assert answer.status_code == 200
    assert answer.headers["ETag"] != etag


def test_pygithub_conditional_update_sees_304(github: GitHubEmulator, pr: PullRequest) -> None:
    fetched = github.client().get_repo("remedy-bot/demo").get_pull(1)
    github.reset_stats()
    assert fetched.update() is False  # 304: unchanged
    pr.add_to_labels("ready-for-qa")
    assert fetched.update() is True
    assert [each.name for each in fetched.labels] == ["ready-for-qa"]
    assert github.stats == {
        "GET /repos/{owner}/{repo}/pulls/{number}": 2,
        "POST /repos/{owner}/{repo}/issues/{number}/labels": 1,
    }


def test_rate_limit_headers_go_down_with_use(http: Http, pr: PullRequest) -> None:
    seen = []
    for _ in range(3):
        answer = http.get(PULL)
        seen.append(int(answer.headers["x-ratelimit-remaining"]))
        assert answer.headers["x-ratelimit-limit"] == "5000"
        assert answer.headers["x-ratelimit-resource"] == "core"
        assert int(answer.headers["x-ratelimit-used"]) == 5000 - seen[-1]
        assert int(answer.headers["x-ratelimit-reset"]) > time.time()
    assert seen[1] == seen[0] - 1
    assert seen[2] == seen[0] - 2


def test_rate_limit_endpoint_is_free(github: GitHubEmulator, http: Http) -> None:
    before = http.get("/rate_limit").json()["rate"]["remaining"]
    after = http.get("/rate_limit").json()
    assert after["rate"]["remaining"] == before
    assert after["resources"]["core"]["limit"] == 5000
    assert github.client().get_rate_limit().resources.core.remaining == before


@pytest.mark.parametrize("status", [403, 429])
def test_exhausted_primary_limit(github: GitHubEmulator, http: Http, status: int) -> None:
    """docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-
    the-rate-limit: 403 or 429 with ``x-ratelimit-remaining: 0``; wait until reset."""
    github.primary.configure(limit=3, status=status)
    for _ in range(3):
        assert http.get("/user").status_code == 200
    refused = http.get("/user")
    assert refused.status_code == status
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert int(refused.headers["x-ratelimit-reset"]) > time.time()
    assert refused.json()["message"].startswith("API rate limit exceeded for user ID")


def test_pygithub_raises_rate_limit_exceeded(github: GitHubEmulator) -> None:
    gh = github.client()
    github.primary.configure(limit=1)
    assert gh.get_user().login == "remedy-bot"
    with pytest.raises(RateLimitExceededException) as raised:
        gh.get_repo("remedy-bot/anything")
    assert raised.value.headers is not None
    assert raised.value.headers["x-ratelimit-remaining"] == "0"
    assert gh.rate_limiting == (0, 1)


def test_primary_budget_is_per_user_shared_by_their_tokens(github: GitHubEmulator) -> None:
    second = github.add_user("remedy-bot", token="second-token-of-remedy-bot")
    other = github.add_user("5DLabs-Tess")
    github.primary.configure(limit=2)
    github.client().get_user().login  # noqa: B018
    github.client(token=second).get_user().login  # noqa: B018
    with pytest.raises(RateLimitExceededException):
        github.client().get_user().login  # noqa: B018
    assert github.client(token=other).get_user().login == "5DLabs-Tess"


def test_primary_window_resets(github: GitHubEmulator, http: Http) -> None:
    # a window no pause between the next two requests outlasts, short enough to wait out
    github.primary.configure(limit=1, window_seconds=1.0)
    assert http.get("/user").status_code == 200
    refused = http.get("/user")
    assert refused.status_code == 403
    eventually(
        lambda: http.get("/user").status_code == 200,
        timeout=10,
        every=0.05,
        what="the primary window (1 s) to reset",
    )


@pytest.mark.parametrize("status", [403, 429])
def test_secondary_trip_answers_retry_after(
    github: GitHubEmulator, http: Http, status: int
) -> None:
    github.secondary.trip(count=2, status=status, retry_after=7)
    for _ in range(2):
        refused = http.get("/user")
        assert refused.status_code == status
        assert refused.headers["Retry-After"] == "7"
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert http.get("/user").status_code == 200


def test_secondary_window_limits_writes_only(
    github: GitHubEmulator, http: Http, pr: PullRequest
) -> None:
    github.secondary.configure(max_requests=2, window_seconds=60, writes_only=True)
    assert http.post(f"{PULL.replace('pulls', 'issues')}/labels", json=["a"]).status_code == 200
    assert http.post(f"{PULL.replace('pulls', 'issues')}/labels", json=["b"]).status_code == 200
    refused = http.post(f"{PULL.replace('pulls', 'issues')}/labels", json=["c"])
    assert refused.status_code == 403
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert http.get(PULL).status_code == 200  # reads are not limited
    github.secondary.disable()
    assert http.post(f"{PULL.replace('pulls', 'issues')}/labels", json=["c"]).status_code == 200


def test_pygithub_secondary_limit_with_retries_disabled(github: GitHubEmulator) -> None:
    github.secondary.trip(status=403, retry_after=1)
    with pytest.raises(RateLimitExceededException):
        github.client().get_user().login  # noqa: B018


def test_pygithub_retry_honours_retry_after(github: GitHubEmulator, repo: object) -> None:
    """PyGithub's ``GithubRetry`` retries a 403 carrying ``Retry-After`` after that wait."""
    gh = github.client(retry=GithubRetry(total=3, backoff_factor=0))
    github.reset_stats()
    github.secondary.trip(status=403, retry_after=1)
    started = time.monotonic()
    assert gh.get_repo("remedy-bot/demo").full_name == "remedy-bot/demo"
    assert time.monotonic() - started >= 1.0
    assert github.stats == {"GET /repos/{owner}/{repo}": 2}


def test_injected_fault_hits_its_endpoint_only_then_stops(
    github: GitHubEmulator, http: Http, pr: PullRequest
) -> None:
    github.backend.faults.add(
        Fault(status=502, method="GET", endpoint="/repos/{owner}/{repo}/pulls/{number}")
    )
    assert http.get("/user").status_code == 200
    assert http.get(PULL).status_code == 502
    assert http.get(PULL).status_code == 200


def test_unknown_route_is_404_with_githubs_shape(http: Http) -> None:
    answer = http.get("/repos/remedy-bot/demo/teleport")
    assert answer.status_code == 404
    assert answer.json()["message"] == "Not Found"
    assert "x-ratelimit-remaining" in answer.headers


def test_stats_count_per_templated_endpoint(
    github: GitHubEmulator, http: Http, pr: PullRequest
) -> None:
    github.reset_stats()
    pr.add_to_labels("ready-for-qa")
    pr.remove_from_labels("ready-for-qa")
    with pytest.raises(GithubException):
        pr.remove_from_labels("ready-for-qa")
    etag = http.get(PULL).headers["ETag"]
    http.get(PULL, headers={"If-None-Match": etag})
    assert github.stats == {
        "POST /repos/{owner}/{repo}/issues/{number}/labels": 1,
        "DELETE /repos/{owner}/{repo}/issues/{number}/labels/{name}": 2,
        "GET /repos/{owner}/{repo}/pulls/{number}": 2,
    }
    snapshot = github.backend.stats.snapshot()
    assert snapshot["total"] == 5
    assert snapshot["statuses"] == {"200": 3, "304": 1, "404": 1}


def test_an_emulator_bug_is_a_json_500_and_serving_goes_on(
    github: GitHubEmulator, http: Http, pr: PullRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr(github.model.pulls, "get", broken)
    answer = http.get(PULL)
    assert answer.status_code == 500
    assert answer.json()["message"] == "Server Error"
    monkeypatch.undo()
    assert http.get(PULL).status_code == 200
