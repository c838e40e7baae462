"""A running local platform (``remedy up`` in-process) plus the levers chaos needs.

Used by the chaos tests, the feedback end-to-end tests and the benchmarks: seed tasks
(a PR, a play workflow suspended at ``waiting-ready-for-qa``, agent runs — shapes in
:mod:`tests.chaos.seeding`), send signed pushes through the gateway or as GitHubSource
does (bodies in :mod:`tests.chaos.webhooks`), inject faults in the emulators over
their admin APIs, and read the outcome from the real places (Kubernetes objects, the
PR's labels, the remediation state). What only benchmarks need (watching effects,
counting API calls and CPU) is in :mod:`tests.benchmarks.effects`.
"""

from __future__ import annotations

import base64
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import yaml
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, api_client
from remedy.domain.remediation import RemediationState
from remedy.local.up import LocalPlatform
from tests.chaos import seeding, webhooks
from tests.chaos.seeding import AGENT_NS, ARGO_NS, CODERUN, REPO, WORKFLOW

CLEAN_ENV = {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN", "WEBHOOK_SECRET"}
POLL_S = 0.2
"""How often tests poll the platform's processes for an effect (with
:func:`tests.support.waiting.eventually`): each look costs real API requests, and there
is no event to wait on."""


@dataclass
class Harness:
    platform: LocalPlatform
    state: dict[str, Any]
    api: client.ApiClient
    github: requests.Session = field(default_factory=requests.Session)
    gateway: requests.Session = field(default_factory=requests.Session)

    @classmethod
    def start(
        cls,
        workdir: Path,
        *,
        function_env: dict[str, str],
        ping_seconds: float = 0.5,
        workflow_step_delay_s: float | None = None,
        log: Path | None = None,
    ) -> Harness:
        out = (log or workdir / "platform.log").open("w")
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        env["REMEDY_LOG_LEVEL"] = "WARNING"
        platform = LocalPlatform(
            workdir=workdir,
            out=out,
            env=env,
            ping_seconds=ping_seconds,
            function_env=function_env,
            workflow_step_delay_s=workflow_step_delay_s,
        )
        try:
            state = platform.start()
        except BaseException:
            platform.stop()
            raise
        harness = cls(platform=platform, state=state, api=api_client(state["kubeconfig"]))
        harness.github.headers["Authorization"] = f"token {state['github_token']}"
        owner, name = REPO.split("/")
        checked(
            harness.github.post(
                f"{state['github_api_url']}/orgs/{owner}/repos", json={"name": name}
            )
        )
        return harness

    def stop(self) -> None:
        self.platform.stop()

    # -- seeding --------------------------------------------------------------------

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def seed_task(self, task: int, *, simulate: dict[str, str] | None = None) -> int:
        """A PR labelled ready-for-qa and a workflow suspended at waiting-ready-for-qa.

        With ``simulate`` (agent settings its CodeRuns get, possibly empty) the workflow is
        marked for the platform's workflow simulator, which moves it on after a resume.
        """
        base = self.state["github_api_url"]
        pull = checked(
            self.github.post(
                f"{base}/repos/{REPO}/pulls",
                json={"title": f"Task {task}", "head": f"task-{task}-chaos", "base": "main"},
            )
        )
        checked(
            self.github.post(
                f"{base}/repos/{REPO}/issues/{pull['number']}/labels",
                json={"labels": ["ready-for-qa", f"task-{task}"]},
            )
        )
        self.custom.create_namespaced_custom_object(
            *WORKFLOW[:2],
            ARGO_NS,
            WORKFLOW[2],
            seeding.play_workflow(task, simulate=simulate),
        )
        return int(pull["number"])

    def coderun(
        self,
        name: str,
        *,
        task: int,
        agent: str,
        phase: str,
        head: str | None = None,
        simulate: dict[str, str] | None = None,
    ) -> None:
        self.custom.create_namespaced_custom_object(
            *CODERUN[:2],
            AGENT_NS,
            CODERUN[2],
            seeding.coderun(name, task=task, agent=agent, head=head, simulate=simulate),
        )
        self.custom.patch_namespaced_custom_object_status(
            *CODERUN[:2], AGENT_NS, CODERUN[2], name, {"status": {"phase": phase}}
        )

    # -- acting -----------------------------------------------------------------------

    def push(self, *, task: int, before: str, after: str, delivery: str, pushed_at: int) -> int:
        """Rex's push, signed and sent to webhook-gateway as GitHub does."""
        body = webhooks.push_body(task=task, before=before, after=after, pushed_at=pushed_at)
        return webhooks.send_webhook(self, event="push", payload=body, delivery=delivery)

    def push_via_source(
        self, *, task: int, before: str, after: str, delivery: str, pushed_at: int
    ) -> int:
        """The push as Knative's GitHubSource sends it: a CloudEvent straight to the broker
        (see :func:`tests.chaos.webhooks.source_push`)."""
        headers, data = webhooks.source_push(
            task=task, before=before, after=after, delivery=delivery, pushed_at=pushed_at
        )
        response = self.gateway.post(
            self.state["broker_url"], data=data, headers=headers, timeout=30
        )
        return response.status_code

    # -- levers: faults, request counts, crashes ----------------------------------------

    def reset_github_stats(self) -> None:
        requests.delete(
            f"{self.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )

    def kube_fault(self, **rule: Any) -> None:
        url, token, ca = self.kube_admin()
        response = requests.post(
            f"{url}/_emulator/faults",
            json=rule,
            verify=ca,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        checked(response)

    def clear_kube_faults(self) -> None:
        url, token, ca = self.kube_admin()
        requests.delete(
            f"{url}/_emulator/faults",
            verify=ca,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )

    def github_fault(self, **spec: Any) -> None:
        admin = requests.post(
            f"{self.state['github_api_url']}/_emulator/faults",
            json=spec,
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )
        checked(admin)

    def github_stats(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )
        stats: dict[str, Any] = checked(response)
        return stats

    def kill(self, name: str) -> None:
        """SIGKILL a function's process group, as a crashed pod would die."""
        for child in self.platform.supervisor.children:
            if child.name == name and child.alive:
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()

    def kube_admin(self) -> tuple[str, str, str]:
        """The Kubernetes emulator's URL, bearer token and CA file (for its admin API)."""
        config = yaml.safe_load(Path(self.state["kubeconfig"]).read_text())
        server = config["clusters"][0]["cluster"]["server"]
        token = config["users"][0]["user"]["token"]
        ca = Path(self.state["kubeconfig"]).with_suffix(".ca.pem")
        if not ca.exists():
            data = config["clusters"][0]["cluster"]["certificate-authority-data"]
            ca.write_bytes(base64.b64decode(data))
        return server, token, str(ca)

    # -- reading ----------------------------------------------------------------------

    def remediation(self, task: int) -> RemediationState | None:
        return KubeRemediationStates(self.api, namespace="remedy").load(task)[0]

    def workflow(self, task: int) -> dict[str, Any]:
        workflow: Any = self.custom.get_namespaced_custom_object(
            *WORKFLOW[:2], ARGO_NS, WORKFLOW[2], f"play-task-{task}"
        )
        return dict(workflow)

    def coderuns(self) -> dict[str, dict[str, Any]]:
        items: Any = self.custom.list_namespaced_custom_object(*CODERUN[:2], AGENT_NS, CODERUN[2])
        return {item["metadata"]["name"]: item for item in items["items"]}

    def labels(self, number: int) -> set[str]:
        base = self.state["github_api_url"]
        listing = checked(self.github.get(f"{base}/repos/{REPO}/issues/{number}/labels"))
        return {label["name"] for label in listing}


def rex_runs(harness: Harness, task: int) -> dict[str, dict[str, Any]]:
    """The task's Rex remediation runs (feedback-intake's), by name."""
    return {
        name: run
        for name, run in harness.coderuns().items()
        if run["spec"].get("taskId") == task
        and run["spec"]["githubApp"] == "5DLabs-Rex"
        and name.startswith("rex-remediation-")
    }


def checked(response: requests.Response) -> Any:
    """``response``'s JSON (None when empty); AssertionError naming it for a non-2xx."""
    if response.status_code >= 300:
        raise AssertionError(
            f"{response.request.method} {response.url}: "
            f"{response.status_code} {response.text[:300]}"
        )
    return response.json() if response.content else None
