"""The ``PullRequests`` port on GitHub's REST API: find the task's PR, move its labels.

The label-update step costs at most one read and two writes per remediation:

- ``find_open``: one ``GET /repos/{o}/{r}/pulls?state=open&head=owner:branch`` (GitHub
  only filters ``head`` given as ``owner:branch``; a bare branch is silently ignored).
  Only when that finds nothing, one ``GET /repos/{o}/{r}/issues?labels=task-<id>``,
  keeping items with a ``pull_request`` key (issues and PRs share that list). The
  caller remembers the number, so a redelivery does not read again. Task PRs are
  taken to come from the repository itself, not from a fork.
- ``remove_label``: one ``DELETE .../issues/{n}/labels/{name}``; 404 means the label
  was not there. The name is percent-encoded *including* ``/``: PyGithub's own
  ``remove_from_labels`` leaves ``/`` raw, which GitHub routes as two path segments.
- ``add_labels``: one ``POST .../issues/{n}/labels`` with every name; GitHub creates
  missing repository labels and ignores ones already on the PR.

Labels have no compare-and-swap (GitHub rejects ``If-Match``), so the adapter never
PUTs a label set computed from an earlier read: single add/remove calls commute with
anyone else's edits. Retries, rate limits and the circuit breaker are
:mod:`remedy.adapters.github.transport`'s; :mod:`.github_errors` lists what callers
may see. Arguments are validated again here (they end up in URLs).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from remedy.adapters.github.connection import TransportClient
from remedy.adapters.github.errors import GitHubUnavailable
from remedy.adapters.github.transport import NOT_FOUND
from remedy.domain.identifiers import (
    InvalidIdentifier,
    Repository,
    validate_pull_number,
    validate_task_id,
)

log = logging.getLogger(__name__)

MAX_LABEL_LENGTH = 50
"""GitHub refuses longer label names (422)."""

_PAGE = 10  # a task has one open PR; a few more on the page only show up as a warning
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# git check-ref-format, roughly: no spaces, controls, ~^:?*[\ , no "..", no "@{".
_BAD_BRANCH = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^[/.-]|[/.]$|\.lock$")


class PullRequestsClient(TransportClient):
    """:class:`remedy.ports.PullRequests` over PyGithub; safe to share between threads."""

    PER_PAGE = _PAGE

    def find_open(self, repository: str, *, branch: str, task_id: int) -> int | None:
        repo = Repository.parse(repository)
        validate_branch(branch)
        validate_task_id(task_id)
        pulls = self._transport.call(
            "GET",
            f"/repos/{repo.full_name}/pulls",
            params={"state": "open", "head": f"{repo.owner}:{branch}", "per_page": _PAGE},
        )
        found = _numbers(pulls, what=f"open PRs of {repo}:{branch}", pulls_only=False)
        if not found:
            issues = self._transport.call(
                "GET",
                f"/repos/{repo.full_name}/issues",
                params={"state": "open", "labels": f"task-{task_id}", "per_page": _PAGE},
            )
            found = _numbers(issues, what=f"open PRs of {repo} labelled task-{task_id}")
        if len(found) > 1:
            log.warning(
                "%s: several open PRs for task %d %s; using #%d", repo, task_id, found, found[0]
            )
        return found[0] if found else None

    def remove_label(self, repository: str, number: int, label: str) -> bool:
        repo = Repository.parse(repository)
        validate_pull_number(number)
        name = quote(validate_label(label), safe="")
        answer = self._transport.call(
            "DELETE", f"/repos/{repo.full_name}/issues/{number}/labels/{name}", allow_404=True
        )
        return answer is not NOT_FOUND

    def add_labels(self, repository: str, number: int, labels: Sequence[str]) -> None:
        repo = Repository.parse(repository)
        validate_pull_number(number)
        if isinstance(labels, str):
            raise InvalidIdentifier("labels must be a sequence of names, not one string")
        names = list(dict.fromkeys(validate_label(each) for each in labels))
        if not names:
            return
        self._transport.call(
            "POST", f"/repos/{repo.full_name}/issues/{number}/labels", body={"labels": names}
        )


def validate_branch(branch: str) -> str:
    if not isinstance(branch, str) or not 1 <= len(branch) <= 255 or _BAD_BRANCH.search(branch):
        raise InvalidIdentifier(f"{str(branch)[:80]!r} is not a valid git branch name")
    return branch


def validate_label(label: str) -> str:
    if (
        not isinstance(label, str)
        or not label.strip()
        or len(label) > MAX_LABEL_LENGTH
        or _CONTROL.search(label)
    ):
        raise InvalidIdentifier(
            f"label {str(label)[:80]!r} must be 1-{MAX_LABEL_LENGTH} characters without controls"
        )
    return label


def _numbers(items: Any, *, what: str, pulls_only: bool = True) -> list[int]:
    """PR numbers in a list answer; a malformed answer is GitHub's fault, so transient."""
    if not isinstance(items, list):
        raise GitHubUnavailable(f"{what}: GitHub answered {type(items).__name__}, not a list")
    numbers = []
    for item in items:
        if not isinstance(item, dict):
            raise GitHubUnavailable(f"{what}: an item is {type(item).__name__}, not an object")
        if pulls_only and "pull_request" not in item:
            continue
        number = item.get("number")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise GitHubUnavailable(f"{what}: an item has number {number!r}")
        numbers.append(number)
    return numbers
