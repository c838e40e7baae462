"""``remedy up --demo``: a realistic task to watch the remediation chain work on.

Task 12 of ``5dlabs/cto``: its play workflow suspended at ``waiting-ready-for-qa``
(marked for the workflow simulator, which moves it on as Argo would); Rex's run
finished, Cleo's running and Tess's pending (both played by the agent simulator, which
acknowledges cancellations); a pull request from ``task-12-demo`` labelled
``ready-for-qa``. It also writes the push webhook a Rex fix would send, so

    remedy invoke webhook --event push --file .remedy/demo-push.json

shows the chain cancel Cleo and Tess, reset the labels and resume the workflow; the
workflow then runs a new Cleo on the pushed head and suspends at
``waiting-ready-for-qa`` again a few seconds later (``kubectl get wf,cr -A``).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from remedy.adapters.kube.api import api_client

TASK = 12
REPO = "5dlabs/cto"
BRANCH = f"task-{TASK}-demo"
AGENT_NS = "agent-platform"
ARGO_NS = "argo"


def seed(state: dict[str, Any], *, workdir: Path, say: Callable[[str], None]) -> dict[str, Any]:
    if not (state["emulated"]["kubernetes"] and state["emulated"]["github"]):
        say("--demo seeds only the emulated platform; skipped on a real cluster or GitHub")
        return {}
    pr_number, head = _github(state)
    _kubernetes(state["kubeconfig"], head=head)
    push = workdir / "demo-push.json"
    push.write_text(json.dumps(push_payload(before=head), indent=2) + "\n")
    say(
        f"demo: task {TASK} of {REPO}, PR #{pr_number} labelled ready-for-qa, workflow "
        f"play-task-{TASK} suspended at waiting-ready-for-qa (moves on when resumed), "
        "Cleo running, Tess pending"
    )
    say(f"demo: try  remedy invoke webhook --event push --file {push}")
    return {"task_id": TASK, "repository": REPO, "pr_number": pr_number, "push_file": str(push)}


def push_payload(*, before: str) -> dict[str, Any]:
    after = secrets.token_hex(20)
    owner, name = REPO.split("/")
    return {
        "ref": f"refs/heads/{BRANCH}",
        "before": before,
        "after": after,
        "created": False,
        "deleted": False,
        "forced": False,
        "compare": f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}",
        "pusher": {"name": "5DLabs-Rex[bot]", "email": "rex@5dlabs.ai"},
        "sender": {"login": "5DLabs-Rex[bot]", "type": "Bot"},
        "repository": {
            "name": name,
            "full_name": REPO,
            "owner": {"login": owner, "name": owner},
            "pushed_at": int(time.time()),
            "html_url": f"https://github.com/{REPO}",
        },
        "head_commit": {"id": after, "message": "fix: address QA feedback"},
    }


def _github(state: dict[str, Any]) -> tuple[int, str]:
    session = requests.Session()
    session.headers["Authorization"] = f"token {state['github_token']}"
    base = state["github_api_url"]
    owner, name = REPO.split("/")
    _ok(session.post(f"{base}/orgs/{owner}/repos", json={"name": name}))
    pull = _ok(
        session.post(
            f"{base}/repos/{REPO}/pulls",
            json={"title": f"Task {TASK}", "head": BRANCH, "base": "main"},
        )
    )
    number = int(pull["number"])
    _ok(
        session.post(
            f"{base}/repos/{REPO}/issues/{number}/labels",
            json={"labels": ["ready-for-qa", f"task-{TASK}"]},
        )
    )
    return number, str(pull["head"]["sha"])


def _ok(response: requests.Response) -> Any:
    if response.status_code >= 300:
        raise RuntimeError(
            f"demo seeding: {response.request.method} {response.url} "
            f"answered {response.status_code}: {response.text[:200]}"
        )
    return response.json()


def _kubernetes(kubeconfig: str, *, head: str) -> None:
    from kubernetes import client  # noqa: PLC0415

    api = api_client(kubeconfig)
    custom = client.CustomObjectsApi(api)
    for name, agent, phase, simulated in [
        (f"rex-task-{TASK}", "5DLabs-Rex", "Succeeded", False),
        (f"cleo-task-{TASK}", "5DLabs-Cleo", "Running", True),
        (f"tess-task-{TASK}", "5DLabs-Tess", "Pending", True),
    ]:
        labels = {"task-id": str(TASK), "github-app": agent, "workflow-name": f"play-task-{TASK}"}
        annotations = {"remedy.dev/head-sha": head}  # the agents record what they work on
        if simulated:
            labels["remedy.dev/simulate"] = "true"
            annotations |= {
                "remedy.dev/simulate-pending-seconds": "0" if phase == "Running" else "3600",
                "remedy.dev/simulate-run-seconds": "3600",
            }
        custom.create_namespaced_custom_object(
            "agents.platform",
            "v1",
            AGENT_NS,
            "coderuns",
            {
                "apiVersion": "agents.platform/v1",
                "kind": "CodeRun",
                "metadata": {"name": name, "labels": labels, "annotations": annotations},
                "spec": {
                    "taskId": TASK,
                    "service": "cto",
                    "githubApp": agent,
                    "model": "claude",
                    "repositoryUrl": f"https://github.com/{REPO}",
                    "docsRepositoryUrl": f"https://github.com/{REPO}",
                    "workingDirectory": ".",
                },
            },
        )
        custom.patch_namespaced_custom_object_status(
            "agents.platform", "v1", AGENT_NS, "coderuns", name, {"status": {"phase": phase}}
        )
    custom.create_namespaced_custom_object(
        "argoproj.io", "v1alpha1", ARGO_NS, "workflows", _workflow()
    )
    api.close()  # type: ignore[no-untyped-call]


def _workflow() -> dict[str, Any]:
    root = f"play-task-{TASK}"
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "name": root,
            "labels": {
                "workflow-type": "play-orchestration",
                "task-id": str(TASK),
                "current-stage": "waiting-ready-for-qa",
                # the workflow simulator plays Argo: after a resume it runs the next agent
                "remedy.dev/simulate": "true",
            },
        },
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "dag": {"tasks": []}}]},
        "status": {
            "phase": "Running",
            "nodes": {
                root: {"id": root, "type": "DAG", "phase": "Running", "displayName": root},
                f"{root}-wait-qa": {
                    "id": f"{root}-wait-qa",
                    "type": "Suspend",
                    "phase": "Running",
                    "displayName": "wait-ready-for-qa",
                    "templateName": "suspend-for-event",
                    "inputs": {
                        "parameters": [
                            {"name": "event-type", "value": "ready-for-qa"},
                            {"name": "stage-name", "value": "waiting-ready-for-qa"},
                        ]
                    },
                },
            },
        },
    }
