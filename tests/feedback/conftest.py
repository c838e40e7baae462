"""The emulated platform for feedback-intake: the chain's fixtures plus the function app.

Kubernetes and GitHub emulators, real Redis masters and feedback-intake as
functions-framework serves it, configured through its environment only. Each test
seeds task 12 with a pull request from its task branch and a Rex, a Cleo and a Tess run.
"""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from remedy.local.emulators.github.server import GitHubEmulator
from tests.chain import seed
from tests.chain.conftest import api, custom, github, kube, platform_env
from tests.feedback import support
from tests.intake.conftest import function_app

__all__ = ["api", "custom", "github", "kube", "platform_env"]


@pytest.fixture
def app(platform_env: dict[str, str]) -> Any:
    return function_app("feedback-intake").test_client()


@pytest.fixture
def pr(github: GitHubEmulator) -> seed.PullRequestSeed:
    return seed.pull_request(github, branch=support.BRANCH, labels=["task-12", "ready-for-qa"])


@pytest.fixture
def agents(custom: client.CustomObjectsApi) -> None:
    seed.coderun(custom, "rex-12", task=12, agent="5DLabs-Rex", phase="Running")
    seed.coderun(custom, "cleo-12", task=12, agent="5DLabs-Cleo", phase="Running")
    seed.coderun(custom, "tess-12", task=12, agent="5DLabs-Tess", phase="Pending")
    seed.coderun(custom, "cleo-13", task=13, agent="5DLabs-Cleo", phase="Running")
