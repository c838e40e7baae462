"""Seeding the emulated platform with a task: CodeRuns, a play workflow, a pull request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client

from remedy.domain import agents
from remedy.local.emulators.github.records import IssueRef, RepoRef
from remedy.local.emulators.github.server import GitHubEmulator

REPO = "5dlabs/cto"
AGENT_NS = "agent-platform"
ARGO_NS = "argo"
STATE_NS = "remedy"
CODERUN = ("agents.platform", "v1", "coderuns")
WORKFLOW = ("argoproj.io", "v1alpha1", "workflows")


def namespaces(core: client.CoreV1Api) -> None:
    for name in (AGENT_NS, ARGO_NS, STATE_NS):
        core.create_namespace({"metadata": {"name": name}})


def coderun(
    custom: client.CustomObjectsApi,
    name: str,
    *,
    task: int,
    agent: str,
    phase: str,
    head: str | None = None,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    body = {
        "apiVersion": "agents.platform/v1",
        "kind": "CodeRun",
        "metadata": {
            "name": name,
            "labels": {"task-id": str(task), "github-app": agent, **(labels or {})},
            "annotations": {agents.HEAD_SHA: head} if head else {},
        },
        "spec": {
            "taskId": task,
            "service": "cto",
            "repositoryUrl": f"https://github.com/{REPO}",
            "docsRepositoryUrl": f"https://github.com/{REPO}",
            "workingDirectory": ".",
            "model": "claude",
            "githubApp": agent,
        },
    }
    created = custom.create_namespaced_custom_object(*CODERUN[:2], AGENT_NS, CODERUN[2], body)
    if phase:
        created = custom.patch_namespaced_custom_object_status(
            *CODERUN[:2], AGENT_NS, CODERUN[2], name, {"status": {"phase": phase}}
        )
    return dict(created)


def play_workflow(
    custom: client.CustomObjectsApi, *, task: int, stage: str, suspended: bool = True
) -> dict[str, Any]:
    node_id = f"play-{task}-1234"
    nodes: dict[str, Any] = {
        f"{node_id}": {"id": node_id, "type": "DAG", "phase": "Running", "displayName": "main"},
    }
    if suspended:
        nodes[f"{node_id}-wait"] = {
            "id": f"{node_id}-wait",
            "type": "Suspend",
            "phase": "Running",
            "displayName": "wait-ready-for-qa",
            "templateName": "suspend-for-event",
            "inputs": {"parameters": [{"name": "stage-name", "value": stage}]},
        }
    body = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": f"play-task-{task}",
            "labels": {
                "workflow-type": "play-orchestration",
                "task-id": str(task),
                "current-stage": stage,
            },
        },
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": []}}]},
        "status": {"phase": "Running", "nodes": nodes},
    }
    return dict(custom.create_namespaced_custom_object(*WORKFLOW[:2], ARGO_NS, WORKFLOW[2], body))


@dataclass(frozen=True)
class PullRequestSeed:
    number: int
    ref: IssueRef


def pull_request(github: GitHubEmulator, *, branch: str, labels: list[str]) -> PullRequestSeed:
    repo = RepoRef.parse(REPO)
    issue = github.model.pulls.create(
        repo, title="Task", head=branch, base="main", actor="remedy-bot"
    )
    ref = IssueRef(repo.owner, repo.name, issue.number)
    github.model.labels.add(ref, labels)
    return PullRequestSeed(issue.number, ref)


def repository(github: GitHubEmulator) -> None:
    github.model.repos.create(RepoRef.parse(REPO), actor="remedy-bot", organization=True)


def pr_labels(github: GitHubEmulator, seed: PullRequestSeed) -> set[str]:
    return {label.name for label in github.model.labels.on_issue(seed.ref)}
