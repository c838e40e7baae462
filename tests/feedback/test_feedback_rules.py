"""The pure rules of feedback and feedback-intake's settings.

Covers: classification of comments and reviews (action, pull request or plain issue,
QA login compared case-insensitively, the marker anywhere in the markdown, review
state), the marker's normalisation (emphasis, case, whitespace, variation selector)
and a configured marker; counting (iteration follows the state's, bounded id memory,
human intervention past the maximum); the remediation CodeRun (deterministic name,
every field the CRD requires, defaults and configured values); settings parsing
(the GitHub App from the implementation logins, docs repository forms, the labels
QA feedback removes, bad values).
"""

from __future__ import annotations

import pytest

from remedy.domain import feedback as rules
from remedy.domain.feedback import (
    MAX_FEEDBACK_IDS,
    Feedback,
    FeedbackFacts,
    FeedbackPolicy,
    RexRunSpec,
)
from remedy.domain.identifiers import LoginSet, Repository
from remedy.domain.pushes import Ignored
from remedy.domain.remediation import RemediationState
from remedy.handlers.feedback.settings import FeedbackConfigError, app_name, feedback_settings

REPO = Repository.parse("5dlabs/cto")
POLICY = FeedbackPolicy(qa_agents=LoginSet(["5DLabs-Tess", "5DLabs-Tess[bot]"]))
MARKED = "### 🔴 Required Changes\n- fix it"


def facts(**changes: object) -> FeedbackFacts:
    base: dict[str, object] = {
        "kind": "comment",
        "repository": REPO,
        "action": "created",
        "feedback_id": 7,
        "author": "5DLabs-Tess[bot]",
        "body": MARKED,
        "number": 3,
        "on_pull_request": True,
        "labels": ("task-12",),
    }
    base.update(changes)
    return FeedbackFacts(**base)  # type: ignore[arg-type]


def review_facts(**changes: object) -> FeedbackFacts:
    fields: dict[str, object] = {
        "kind": "review",
        "action": "submitted",
        "review_state": "changes_requested",
    }
    return facts(**{**fields, **changes})


@pytest.mark.parametrize(
    ("case", "given", "ignored_because"),
    [
        ("tess comment", facts(), None),
        ("login case", facts(author="5dlabs-tess[BOT]"), None),
        ("plain login", facts(author="5DLabs-Tess"), None),
        ("edited", facts(action="edited"), "only new comments"),
        ("deleted", facts(action="deleted"), "only new comments"),
        ("plain issue", facts(on_pull_request=False), "not a pull request"),
        ("other author", facts(author="octocat"), "not a QA agent"),
        ("no author", facts(author=""), "(unknown)"),
        ("no marker", facts(body="🔴 looks fine"), "does not carry"),
        ("review", review_facts(), None),
        ("review upper state", review_facts(review_state="CHANGES_REQUESTED"), None),
        ("review without marker", review_facts(body=""), None),
        ("approved", review_facts(review_state="approved"), "not changes_requested"),
        ("commented", review_facts(review_state="commented"), "not changes_requested"),
        ("dismissed", review_facts(action="dismissed"), "only submissions"),
        ("review by other", review_facts(author="5DLabs-Cleo[bot]"), "not a QA agent"),
    ],
)
def test_classification(case: str, given: FeedbackFacts, ignored_because: str | None) -> None:
    decision = rules.classify(given, POLICY)

    if ignored_because is None:
        assert isinstance(decision, Feedback), case
        assert decision.key == f"{given.kind}:{given.feedback_id}"
        assert (decision.pr_number, decision.labels) == (3, ("task-12",))
    else:
        assert isinstance(decision, Ignored), case
        assert ignored_because in decision.reason


@pytest.mark.parametrize(
    ("body", "carries"),
    [
        ("🔴 Required Changes", True),
        ("Summary\n\n## 🔴 **Required Changes**\n1. x", True),
        ("🔴 __required   changes__", True),
        ("🔴\ufe0f Required\nChanges", True),
        ("`🔴 Required Changes`", True),
        ("Required Changes", False),
        ("🔴 Required", False),
        ("🟢 Required Changes", False),
        ("", False),
    ],
)
def test_the_marker_is_found_anywhere_in_the_markdown(body: str, carries: bool) -> None:
    assert rules.carries_marker(body, rules.DEFAULT_MARKER) is carries


def test_a_configured_marker_replaces_the_default() -> None:
    policy = FeedbackPolicy(qa_agents=POLICY.qa_agents, marker="NEEDS WORK")

    assert isinstance(rules.classify(facts(body="this needs work"), policy), Feedback)
    assert isinstance(rules.classify(facts(body=MARKED), policy), Ignored)


def test_counting_follows_the_state_and_flags_the_iteration_past_the_maximum() -> None:
    state = RemediationState(task_id=12, repository="5dlabs/cto")
    for n in range(1, 4):
        rules.count(state, f"comment:{n}", iteration=n, max_iterations=3)
    assert (state.iteration, state.human_intervention_required) == (3, False)

    rules.count(state, "review:9", iteration=4, max_iterations=3)

    assert (state.iteration, state.human_intervention_required) == (4, True)
    assert state.feedback_ids[-1] == "review:9"
    with pytest.raises(ValueError, match="does not follow"):
        rules.count(state, "comment:10", iteration=4, max_iterations=3)


def test_remembered_feedback_ids_are_bounded_keeping_the_newest() -> None:
    state = RemediationState(task_id=12, repository="5dlabs/cto")
    for n in range(1, MAX_FEEDBACK_IDS + 11):
        rules.count(state, f"comment:{n}", iteration=n, max_iterations=1000)

    assert len(state.feedback_ids) == MAX_FEEDBACK_IDS
    assert state.feedback_ids[0] == "comment:11"
    assert state.feedback_ids[-1] == f"comment:{MAX_FEEDBACK_IDS + 10}"


def test_the_remediation_run_has_every_required_field_and_a_deterministic_name() -> None:
    accepted = rules.classify(review_facts(), POLICY)
    assert isinstance(accepted, Feedback)

    body = rules.remediation_run(
        spec=RexRunSpec(github_app="5DLabs-Rex"), feedback=accepted, task_id=12, iteration=4
    )

    assert body["metadata"]["name"] == "rex-remediation-t12-i4" == rules.run_name(12, 4)
    spec = body["spec"]
    required = {"service", "repositoryUrl", "docsRepositoryUrl", "workingDirectory", "model"}
    assert required | {"githubApp"} <= set(spec)
    assert (spec["service"], spec["docsRepositoryUrl"]) == ("cto", "https://github.com/5dlabs/cto")
    assert spec["model"] == rules.DEFAULT_MODEL
    assert spec["env"]["FEEDBACK_TYPE"] == "review"
    assert spec["env"]["ITERATION_COUNT"] == "4"
    assert all(isinstance(value, str) for value in spec["env"].values())


def test_settings_from_the_environment() -> None:
    settings = feedback_settings(
        {
            "REMEDY_FEEDBACK_MARKER": "  ❌ Changes needed ",
            "REMEDY_REX_SERVICE": "login-service",
            "REMEDY_REX_MODEL": "gpt-5-codex",
            "REMEDY_REX_DOCS_REPOSITORY": "5dlabs/docs",
            "REMEDY_REX_WORKING_DIRECTORY": "services/login",
        },
        qa_agents=POLICY.qa_agents,
        implementation_agents=LoginSet(["5DLabs-Rex[Bot]", "5DLabs-Rex"]),
        max_iterations=4,
        remediation_label="remediating",
        failed_label="needs-human",
        remove_labels=("ready-for-qa", "qa-in-progress"),
    )

    assert settings.policy.marker == "❌ Changes needed"
    run = settings.run
    assert (run.github_app, run.service) == ("5DLabs-Rex", "login-service")
    assert run.model == "gpt-5-codex"
    assert run.docs_repository_url == "https://github.com/5dlabs/docs"
    assert run.working_directory == "services/login"
    assert (settings.max_iterations, settings.failed_label) == (4, "needs-human")
    assert settings.remove_labels == ("ready-for-qa", "qa-in-progress")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"REMEDY_REX_DOCS_REPOSITORY": "not a repo"}, "REMEDY_REX_DOCS_REPOSITORY"),
        ({"REMEDY_FEEDBACK_MARKER": "a\x00b"}, "REMEDY_FEEDBACK_MARKER"),
        ({"REMEDY_REX_MODEL": "m" * 300}, "REMEDY_REX_MODEL"),
        ({"REMEDY_FEEDBACK_MARKER": "** __"}, "only markdown emphasis"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(FeedbackConfigError, match=message):
        feedback_settings(
            env,
            qa_agents=POLICY.qa_agents,
            implementation_agents=LoginSet(["5DLabs-Rex"]),
            max_iterations=10,
            remediation_label="remediation-in-progress",
            failed_label="failed-remediation",
            remove_labels=("ready-for-qa",),
        )


def test_the_docs_repository_may_be_a_url_and_the_app_needs_a_login() -> None:
    settings = feedback_settings(
        {"REMEDY_REX_DOCS_REPOSITORY": "https://github.com/5dlabs/docs/"},
        qa_agents=POLICY.qa_agents,
        implementation_agents=LoginSet(["5DLabs-Rex"]),
        max_iterations=10,
        remediation_label="remediation-in-progress",
        failed_label="failed-remediation",
        remove_labels=("ready-for-qa",),
    )
    assert settings.run.docs_repository_url == "https://github.com/5dlabs/docs"
    with pytest.raises(FeedbackConfigError, match="REMEDY_IMPLEMENTATION_AGENTS"):
        app_name(LoginSet([]))
