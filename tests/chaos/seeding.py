"""What the harness seeds: the repository, the play workflow and the agents' CodeRuns.

The chaos tests, the feedback end-to-end tests and the benchmarks work on tasks of one
repository (``REPO``); a task starts as its play workflow suspended at
``waiting-ready-for-qa`` (``play_workflow``) with agent runs beside it (``coderun``),
optionally marked for the platform's simulators, which then move them on.
``seed_remediation_task`` seeds a task ready for a Rex push.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.chaos.harness import Harness

REPO = "5dlabs/cto"
AGENT_NS, ARGO_NS = "agent-platform", "argo"
CODERUN = ("agents.platform", "v1", "coderuns")
WORKFLOW = ("argoproj.io", "v1alpha1", "workflows")


def sha(task: int, n: int) -> str:
    """The ``n``-th commit of ``task``'s branch (40 hex digits, readable in failures)."""
    return f"{task:06d}{n:034d}"


def play_workflow(task: int, *, simulate: dict[str, str] | None) -> dict[str, Any]:
    """The task's play workflow, suspended at waiting-ready-for-qa.

    With ``simulate`` (the settings its agents' CodeRuns get, possibly empty) it is
    marked for the workflow simulator, which moves it on after a resume.
    """
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": f"play-task-{task}",
            "labels": {
                "workflow-type": "play-orchestration",
                "task-id": str(task),
                "current-stage": "waiting-ready-for-qa",
                **({"remedy.dev/simulate": "true"} if simulate is not None else {}),
            },
            "annotations": simulate or {},
        },
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": []}}]},
        "status": {
            "phase": "Running",
            "nodes": {"wait-0": _suspend_node("wait-0", "waiting-ready-for-qa")},
        },
    }


def coderun(
    name: str,
    *,
    task: int,
    agent: str,
    head: str | None = None,
    simulate: dict[str, str] | None = None,
) -> dict[str, Any]:
    """An agent's CodeRun on ``task``; with ``simulate``, driven by the agent simulator."""
    labels = {"task-id": str(task), "github-app": agent}
    annotations = {"remedy.dev/head-sha": head} if head else {}
    if simulate is not None:
        labels["remedy.dev/simulate"] = "true"
        annotations |= simulate
    return {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": {"name": name, "labels": labels, "annotations": annotations},
        "spec": {
            "taskId": task,
            "service": "cto",
            "githubApp": agent,
            "model": "m",
            "repositoryUrl": f"https://github.com/{REPO}",
            "docsRepositoryUrl": f"https://github.com/{REPO}",
            "workingDirectory": ".",
        },
    }


def seed_remediation_task(
    harness: Harness,
    task: int,
    *,
    ack_delay_s: str = "0",
    workflow_agents: dict[str, str] | None = None,
) -> int:
    """A task ready for a Rex push: PR, suspended workflow, Rex, Cleo and Tess runs.

    Cleo is a simulated run working on ``sha(task, 0)`` that acknowledges a cancellation
    after ``ack_delay_s``; Tess is Pending (deleted at once); Rex is not simulated and
    must be left alone. With ``workflow_agents`` the workflow simulator moves the
    workflow on, its agents' runs simulated with those settings. Returns the PR's number.
    """
    number = harness.seed_task(task, simulate=workflow_agents)
    harness.coderun(f"rex-{task}", task=task, agent="5DLabs-Rex", phase="Running")
    harness.coderun(
        f"cleo-{task}",
        task=task,
        agent="5DLabs-Cleo",
        phase="Running",
        head=sha(task, 0),
        simulate={
            "remedy.dev/simulate-pending-seconds": "0",
            "remedy.dev/simulate-run-seconds": "3600",
            "remedy.dev/simulate-ack-delay-seconds": ack_delay_s,
        },
    )
    harness.coderun(
        f"tess-{task}",
        task=task,
        agent="5DLabs-Tess",
        phase="Pending",
        simulate={"remedy.dev/simulate-pending-seconds": "3600"},
    )
    return number


def _suspend_node(node_id: str, stage: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "Suspend",
        "phase": "Running",
        "displayName": node_id,
        "inputs": {"parameters": [{"name": "stage-name", "value": stage}]},
    }
