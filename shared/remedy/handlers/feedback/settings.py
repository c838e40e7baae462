"""feedback-intake's settings, and the variables only it reads.

The settings shared with other functions (agent logins, the iteration cap, label names,
among them ``REMEDY_LABELS_REMOVE``: what label-update takes off the PR for a push, QA
feedback takes off too) are parsed by :mod:`remedy.config` in the composition root and
passed in; this module parses the rest from the environment mapping it is given, so it
stays free of the client libraries :mod:`remedy.config` pulls in. A bad value fails at
start-up with a message naming the variable.

================================  ================================================
``REMEDY_FEEDBACK_MARKER``        text a QA comment must carry (🔴 Required Changes)
``REMEDY_REX_SERVICE``            CodeRun ``spec.service`` (default: the repo name)
``REMEDY_REX_MODEL``              CodeRun ``spec.model`` (claude-sonnet-4-20250514)
``REMEDY_REX_DOCS_REPOSITORY``    ``owner/name`` or https URL (default: the repo)
``REMEDY_REX_WORKING_DIRECTORY``  CodeRun ``spec.workingDirectory`` (default ``.``)
================================  ================================================
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from remedy.domain.feedback import (
    DEFAULT_MARKER,
    DEFAULT_MODEL,
    FeedbackPolicy,
    RexRunSpec,
    normalise,
)
from remedy.domain.identifiers import InvalidIdentifier, LoginSet, Repository

_BOT = re.compile(r"\[bot\]$", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MAX_TEXT = 200


class FeedbackConfigError(ValueError):
    """A feedback-intake variable is malformed; the message names it."""


@dataclass(frozen=True)
class FeedbackSettings:
    policy: FeedbackPolicy
    run: RexRunSpec
    max_iterations: int = 10
    remediation_label: str = "remediation-in-progress"
    failed_label: str = "failed-remediation"
    remove_labels: tuple[str, ...] = ("ready-for-qa",)


def feedback_settings(
    env: Mapping[str, str],
    *,
    qa_agents: LoginSet,
    implementation_agents: LoginSet,
    max_iterations: int,
    remediation_label: str,
    failed_label: str,
    remove_labels: tuple[str, ...],
) -> FeedbackSettings:
    docs = _text(env, "REMEDY_REX_DOCS_REPOSITORY", "")
    marker = _text(env, "REMEDY_FEEDBACK_MARKER", DEFAULT_MARKER)
    if not normalise(marker):
        raise FeedbackConfigError(
            f"REMEDY_FEEDBACK_MARKER {marker!r} is only markdown emphasis; nothing would match"
        )
    return FeedbackSettings(
        policy=FeedbackPolicy(qa_agents=qa_agents, marker=marker),
        run=RexRunSpec(
            github_app=app_name(implementation_agents),
            model=_text(env, "REMEDY_REX_MODEL", DEFAULT_MODEL),
            service=_text(env, "REMEDY_REX_SERVICE", "") or None,
            docs_repository_url=_repository_url(docs) if docs else None,
            working_directory=_text(env, "REMEDY_REX_WORKING_DIRECTORY", "."),
        ),
        max_iterations=max_iterations,
        remediation_label=remediation_label,
        failed_label=failed_label,
        remove_labels=remove_labels,
    )


def app_name(implementation_agents: LoginSet) -> str:
    """The GitHub App a CodeRun names: the first implementation login, without ``[bot]``."""
    if not implementation_agents.logins:
        raise FeedbackConfigError("REMEDY_IMPLEMENTATION_AGENTS names no agent")
    return _BOT.sub("", implementation_agents.logins[0])


def _text(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    if len(value) > _MAX_TEXT or _CONTROL.search(value):
        raise FeedbackConfigError(
            f"{name} must be at most {_MAX_TEXT} characters without control characters"
        )
    return value


def _repository_url(value: str) -> str:
    if value.startswith("https://"):
        return value.rstrip("/")
    try:
        return Repository.parse(value).html_url
    except InvalidIdentifier as exc:
        raise FeedbackConfigError(
            f"REMEDY_REX_DOCS_REPOSITORY: {exc}; give owner/name or an https:// URL"
        ) from None
