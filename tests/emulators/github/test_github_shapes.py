"""Shapes and status codes against recorded api.github.com traffic and real payloads.

Behaviours covered:
- every request of the octokit ``labels``, ``add-labels-to-issue`` and ``errors``
  recordings, replayed against the emulator, gets the recorded status and a body
  with the recorded keys (nested objects too), the same label values and the same
  422 ``errors``; URLs name the same paths on the emulator's base;
- the only keys the emulator adds are ones GitHub added after the 2022 recordings;
- the REST pull request, issue, review and issue comment carry every key of the
  corresponding object in GitHub's webhook examples.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from github.PullRequest import PullRequest
from github.Repository import Repository

from remedy.local.emulators.github.server import GitHubEmulator

from .conftest import Http

# Keys api.github.com returns today that the 2022 recordings predate.
NEWER_KEYS = {"has_discussions", "user_view_type", "status"}


def _compare(expected: Any, got: Any, where: str, problems: list[str]) -> None:
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            problems.append(f"{where}: expected an object, got {got!r}")
            return
        missing, extra = set(expected) - set(got), set(got) - set(expected) - NEWER_KEYS
        if missing or extra:
            problems.append(f"{where}: missing {sorted(missing)}, unexpected {sorted(extra)}")
        for key in set(expected) & set(got):
            _compare(expected[key], got[key], f"{where}.{key}", problems)
    elif isinstance(expected, list) and expected and isinstance(expected[0], dict):
        if not isinstance(got, list) or len(got) != len(expected):
            problems.append(f"{where}: expected {len(expected)} items, got {got!r}")
            return
        for index, (want, have) in enumerate(zip(expected, got, strict=True)):
            _compare(want, have, f"{where}[{index}]", problems)


def _same_values(expected: Any, got: Any, keys: tuple[str, ...]) -> bool:
    items = zip(expected, got, strict=True) if isinstance(expected, list) else [(expected, got)]
    return all(want[key] == have[key] for want, have in items for key in keys)


@pytest.mark.parametrize("scenario", ["labels", "add-labels-to-issue", "errors"])
def test_octokit_recordings_replay_with_the_same_statuses_and_shapes(
    github: GitHubEmulator, http: Http, reference_dir: Path, scenario: str
) -> None:
    steps = json.loads(
        (reference_dir / f"octokit-fixtures/{scenario}__raw-fixture.json").read_text()
    )
    problems: list[str] = []
    for step in steps:
        body = step.get("body") or None
        answer = http.request(step["method"].upper(), step["path"], json=body)
        where = f"{step['method'].upper()} {step['path']}"
        assert answer.status_code == step["status"], f"{where}: {answer.text}"
        expected = step["response"]
        if not expected:
            assert answer.content == b""
            continue
        got = answer.json()
        _compare(expected, got, where, problems)
        if isinstance(expected, dict) and "url" in expected:
            assert got["url"] == expected["url"].replace("https://api.github.com", github.url)
        if "/labels" in step["path"] and answer.status_code < 300:
            assert _same_values(expected, got, ("name", "color", "default", "description"))
        if answer.status_code == 422:
            assert (got["message"], got["errors"]) == (expected["message"], expected["errors"])
            assert got["documentation_url"] == expected["documentation_url"]
    assert problems == []


def _webhook(reference_dir: Path, name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((reference_dir / "github-webhooks" / name).read_text())
    return payload


def test_rest_objects_carry_every_key_of_githubs_webhook_objects(
    github: GitHubEmulator,
    http: Http,
    reference_dir: Path,
    repo: Repository,
    pr: PullRequest,
) -> None:
    pr.add_to_labels("bug")
    tess = github.client(token=github.add_user("5DLabs-Tess"))
    tess.get_repo("remedy-bot/demo").get_pull(1).create_review(body="ok", event="COMMENT")
    repo.get_issue(1).create_comment("hello")
    opened = _webhook(reference_dir, "pull_request__opened.payload.json")["pull_request"]
    commented = _webhook(reference_dir, "issue_comment__created.payload.json")
    review = _webhook(reference_dir, "pull_request_review__submitted.payload.json")["review"]
    cases = [
        (opened, http.get("/repos/remedy-bot/demo/pulls/1").json()),
        (opened["head"], http.get("/repos/remedy-bot/demo/pulls/1").json()["head"]),
        (commented["issue"], http.get("/repos/remedy-bot/demo/issues/1").json()),
        (commented["comment"], http.get("/repos/remedy-bot/demo/issues/1/comments").json()[0]),
        (review, http.get("/repos/remedy-bot/demo/pulls/1/reviews").json()[0]),
    ]
    for expected, got in cases:
        assert set(expected) - set(got) == set()
