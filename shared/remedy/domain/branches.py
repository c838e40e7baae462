"""Which branches name a task, and which task.

The original system matched ``refs/heads/task-.*`` and stopped working when branches
moved to ``feature/task-…``. The pattern is configuration (a regular expression with a
named group ``id``) and the default covers both schemes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from remedy.domain.identifiers import MAX_TASK_ID

DEFAULT_TASK_BRANCH_PATTERN = (
    r"^(?:feature/)?task-(?P<id>[1-9][0-9]{0,6})(?:-(?P<slug>[A-Za-z0-9][A-Za-z0-9._/-]*))?$"
)

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"


@dataclass(frozen=True)
class TaskBranchPattern:
    regex: re.Pattern[str]

    @classmethod
    def compile(cls, pattern: str = DEFAULT_TASK_BRANCH_PATTERN) -> TaskBranchPattern:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ValueError(
                f"task branch pattern {pattern!r} is not a regular expression: {exc}"
            ) from exc
        if "id" not in regex.groupindex:
            raise ValueError(f"task branch pattern {pattern!r} needs a named group (?P<id>...)")
        return cls(regex=regex)

    def task_id(self, branch: str) -> int | None:
        """The task a branch names, or None when it names none (or an absurd id)."""
        match = self.regex.fullmatch(branch)
        if match is None:
            return None
        try:
            task_id = int(match.group("id"))
        except (TypeError, ValueError):
            return None
        return task_id if 1 <= task_id <= MAX_TASK_ID else None
