"""A running local platform (``remedy up`` in-process) plus the levers chaos needs.

Used by the chaos tests and the end-to-end benchmark: seed tasks (a PR, a play workflow
suspended at ``waiting-ready-for-qa``, agent runs), send signed pushes through the
gateway, inject faults in the emulators over their admin APIs, and read the outcome
from the real places (Kubernetes objects, the PR's labels, the remediation state).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import yaml
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, api_client
from remedy.domain.remediation import RemediationState
from remedy.domain.signatures import sign
from remedy.local.up import LocalPlatform
from tests.support.cpu import cpu_seconds

REPO = "5dlabs/cto"
AGENT_NS, ARGO_NS = "agent-platform", "argo"
CODERUN = ("agents.platform", "v1", "coderuns")
WORKFLOW = ("argoproj.io", "v1alpha1", "workflows")
CLEAN_ENV = {"KUBECONFIG", "REDIS_URLS", "GITHUB_API_URL", "GITHUB_TOKEN", "WEBHOOK_SECRET"}


def sha(task: int, n: int) -> str:
    return f"{task:06d}{n:034d}"


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
        harness._ok(
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
        pull = self._ok(
            self.github.post(
                f"{base}/repos/{REPO}/pulls",
                json={"title": f"Task {task}", "head": f"task-{task}-chaos", "base": "main"},
            )
        )
        self._ok(
            self.github.post(
                f"{base}/repos/{REPO}/issues/{pull['number']}/labels",
                json={"labels": ["ready-for-qa", f"task-{task}"]},
            )
        )
        self.custom.create_namespaced_custom_object(
            *WORKFLOW[:2],
            ARGO_NS,
            WORKFLOW[2],
            {
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
                "spec": {
                    "entrypoint": "main",
                    "templates": [{"name": "main", "dag": {"tasks": []}}],
                },
                "status": {
                    "phase": "Running",
                    "nodes": {"wait-0": _suspend_node("wait-0", "waiting-ready-for-qa")},
                },
            },
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
        labels = {"task-id": str(task), "github-app": agent}
        annotations = {"remedy.dev/head-sha": head} if head else {}
        if simulate is not None:
            labels["remedy.dev/simulate"] = "true"
            annotations |= simulate
        self.custom.create_namespaced_custom_object(
            *CODERUN[:2],
            AGENT_NS,
            CODERUN[2],
            {
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
            },
        )
        self.custom.patch_namespaced_custom_object_status(
            *CODERUN[:2], AGENT_NS, CODERUN[2], name, {"status": {"phase": phase}}
        )

    # -- acting -----------------------------------------------------------------------

    def push(self, *, task: int, before: str, after: str, delivery: str, pushed_at: int) -> int:
        body = _push_body(task=task, before=before, after=after, pushed_at=pushed_at)
        secret = self.state["webhook_secret"].encode()
        response = self.gateway.post(
            self.state["gateway_url"],
            data=body,
            timeout=30,
            headers={
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sign(secret, body),
                "Content-Type": "application/json",
            },
        )
        return response.status_code

    def push_via_source(
        self, *, task: int, before: str, after: str, delivery: str, pushed_at: int
    ) -> int:
        """The push as Knative's GitHubSource sends it: a CloudEvent straight to the broker,
        its data GitHubSource's re-serialised struct (false fields dropped, ``pushed_at`` an
        RFC 3339 string). Another hook, so another delivery id."""
        body = json.loads(_push_body(task=task, before=before, after=after, pushed_at=pushed_at))
        data = {k: v for k, v in body.items() if v is not False}
        moment = datetime.fromtimestamp(pushed_at, tz=UTC)
        data["repository"]["pushed_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        owner, name = REPO.split("/")
        headers = {
            "ce-specversion": "1.0",
            "ce-type": "dev.knative.source.github.push",
            "ce-source": f"https://github.com/{REPO}",
            "ce-id": delivery,
            "ce-subject": str(after),
            "ce-owner": owner,
            "ce-repository": name,
            "ce-ref": data["ref"],
            "ce-pusher": data["pusher"]["name"],
            "ce-sender": data["sender"]["login"],
            "Content-Type": "application/json",
        }
        response = self.gateway.post(
            self.state["broker_url"], data=json.dumps(data), headers=headers, timeout=30
        )
        return response.status_code

    def reset_github_stats(self) -> None:
        requests.delete(
            f"{self.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )

    def kube_fault(self, **rule: Any) -> None:
        url, token, ca = self._kube_admin()
        response = requests.post(
            f"{url}/_emulator/faults",
            json=rule,
            verify=ca,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
        self._ok(response)

    def clear_kube_faults(self) -> None:
        url, token, ca = self._kube_admin()
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
        self._ok(admin)

    def github_stats(self) -> dict[str, Any]:
        response = requests.get(
            f"{self.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )
        stats: dict[str, Any] = self._ok(response)
        return stats

    def kill(self, name: str) -> None:
        """SIGKILL a function's process group, as a crashed pod would die."""
        import signal  # noqa: PLC0415

        for child in self.platform.supervisor.children:
            if child.name == name and child.alive:
                os.killpg(child.proc.pid, signal.SIGKILL)
                child.proc.wait()

    # -- reading ----------------------------------------------------------------------

    def remediation(self, task: int) -> RemediationState | None:
        return KubeRemediationStates(self.api, namespace="remedy").load(task)[0]

    def workflow(self, task: int) -> dict[str, Any]:
        return dict(
            self.custom.get_namespaced_custom_object(
                *WORKFLOW[:2], ARGO_NS, WORKFLOW[2], f"play-task-{task}"
            )
        )

    def coderuns(self) -> dict[str, dict[str, Any]]:
        items = self.custom.list_namespaced_custom_object(*CODERUN[:2], AGENT_NS, CODERUN[2])
        return {item["metadata"]["name"]: item for item in items["items"]}

    def labels(self, number: int) -> set[str]:
        base = self.state["github_api_url"]
        listing = self._ok(self.github.get(f"{base}/repos/{REPO}/issues/{number}/labels"))
        return {label["name"] for label in listing}

    @staticmethod
    def _ok(response: requests.Response) -> Any:
        if response.status_code >= 300:
            raise AssertionError(
                f"{response.request.method} {response.url}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response.json() if response.content else None

    def _kube_admin(self) -> tuple[str, str, str]:
        config = yaml.safe_load(Path(self.state["kubeconfig"]).read_text())
        server = config["clusters"][0]["cluster"]["server"]
        token = config["users"][0]["user"]["token"]
        ca = Path(self.state["kubeconfig"]).with_suffix(".ca.pem")
        if not ca.exists():
            import base64  # noqa: PLC0415

            data = config["clusters"][0]["cluster"]["certificate-authority-data"]
            ca.write_bytes(base64.b64decode(data))
        return server, token, str(ca)


def _suspend_node(node_id: str, stage: str) -> dict[str, Any]:
    return {
        "id": node_id,
        "type": "Suspend",
        "phase": "Running",
        "displayName": node_id,
        "inputs": {"parameters": [{"name": "stage-name", "value": stage}]},
    }


def _push_body(*, task: int, before: str, after: str, pushed_at: int) -> bytes:
    owner, name = REPO.split("/")
    return json.dumps(
        {
            "ref": f"refs/heads/task-{task}-chaos",
            "before": before,
            "after": after,
            "created": False,
            "deleted": False,
            "forced": False,
            "compare": f"https://github.com/{REPO}/compare/{before[:12]}...{after[:12]}",
            "pusher": {"name": "5DLabs-Rex[bot]"},
            "sender": {"login": "5DLabs-Rex[bot]"},
            "repository": {
                "name": name,
                "full_name": REPO,
                "owner": {"login": owner},
                "pushed_at": pushed_at,
            },
        }
    ).encode()


def wait_until(
    predicate: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    describe: Callable[[], str] = lambda: "",
) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{describe()}")
        time.sleep(0.2)  # polling other processes' effects; there is no event to wait on


def comment_body(
    *, task: int, pr: int, comment_id: int, author: str, body: str, action: str = "created"
) -> dict[str, Any]:
    """An issue_comment webhook on the task's PR (GitHub's shape, trimmed)."""
    owner, name = REPO.split("/")
    html = f"https://github.com/{REPO}/pull/{pr}"
    return {
        "action": action,
        "issue": {
            "number": pr,
            "html_url": html,
            "labels": [{"name": f"task-{task}"}],
            "pull_request": {
                "url": f"https://api.github.com/repos/{REPO}/pulls/{pr}",
                "html_url": html,
            },
        },
        "comment": {
            "id": comment_id,
            "body": body,
            "user": {"login": author},
            "html_url": f"{html}#issuecomment-{comment_id}",
        },
        "repository": {"name": name, "full_name": REPO, "owner": {"login": owner}},
        "sender": {"login": author},
    }


def review_body(
    *, task: int, pr: int, review_id: int, author: str, state: str, head: str = "0" * 40
) -> dict[str, Any]:
    """A pull_request_review submitted webhook on the task's PR (trimmed)."""
    owner, name = REPO.split("/")
    return {
        "action": "submitted",
        "review": {"id": review_id, "state": state, "user": {"login": author}},
        "pull_request": {
            "number": pr,
            "head": {"ref": f"task-{task}-chaos", "sha": head},
            "labels": [{"name": f"task-{task}"}],
        },
        "repository": {"name": name, "full_name": REPO, "owner": {"login": owner}},
        "sender": {"login": author},
    }


def send_webhook(harness: Harness, *, event: str, payload: dict[str, Any], delivery: str) -> int:
    import json  # noqa: PLC0415

    body = json.dumps(payload).encode()
    secret = harness.state["webhook_secret"].encode()
    response = harness.gateway.post(
        harness.state["gateway_url"],
        data=body,
        timeout=30,
        headers={
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": sign(secret, body),
            "Content-Type": "application/json",
        },
    )
    return response.status_code


def rex_runs(harness: Harness, task: int) -> dict[str, dict[str, Any]]:
    return {
        name: run
        for name, run in harness.coderuns().items()
        if run["spec"].get("taskId") == task
        and run["spec"]["githubApp"] == "5DLabs-Rex"
        and name.startswith("rex-remediation-")
    }


# -- benchmark helpers: watching effects, counting API calls, CPU --------------------


class ObjectWatch:
    """One namespaced custom resource, kept current from a Kubernetes watch.

    The benchmarks time remedy's effects by the moment the watch event for each arrives
    (no polling, so no poll granularity and no extra API requests while they run). A
    watch is one request when it opens; its events add none, so the emulator's request
    counts around a batch stay remedy's own.
    """

    def __init__(self, harness: Harness, resource: tuple[str, str, str], namespace: str) -> None:
        self._custom = harness.custom
        self._args = (*resource[:2], namespace, resource[2])
        self._changed = threading.Condition()
        self.objects: dict[str, dict[str, Any]] = {}
        self.added: dict[str, float] = {}
        """time.monotonic() of each name's first ADDED event (after the initial list)."""
        self.deleted: dict[str, float] = {}
        """time.monotonic() of each name's DELETED event."""
        self.changed_at: dict[str, float] = {}
        """time.monotonic() of each name's latest event."""
        self.last_event = time.monotonic()
        self._stop = threading.Event()
        self._response: Any = None
        self._expired = False
        self._version = ""
        self._relist()
        self._thread = threading.Thread(target=self._run, daemon=True, name="object-watch")
        self._thread.start()

    def _run(self) -> None:
        import json  # noqa: PLC0415

        while not self._stop.is_set():
            try:
                self._response = self._custom.list_namespaced_custom_object(
                    *self._args,
                    watch=True,
                    resource_version=self._version,
                    timeout_seconds=3600,
                    _preload_content=False,
                )
                buffer = b""
                for chunk in self._response.stream(amt=None, decode_content=False):
                    now = time.monotonic()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    events = [json.loads(line) for line in lines if line.strip()]
                    with self._changed:
                        for event in events:
                            self._apply(event, now)
                        self._changed.notify_all()
            except Exception:
                # closed by stop(), a dropped stream (reopen where it left off) or a
                # 410 for a compacted version (list again)
                if self._stop.wait(0.05):
                    return
                if self._expired:
                    self._relist()

    def _relist(self) -> None:
        listing: Any = self._custom.list_namespaced_custom_object(*self._args)
        with self._changed:
            self._version = str(listing["metadata"]["resourceVersion"])
            self.objects = {item["metadata"]["name"]: item for item in listing["items"]}
            self._expired = False

    def _apply(self, event: dict[str, Any], now: float) -> None:
        obj = event["object"]
        if event["type"] == "ERROR":
            self._expired = True
            raise RuntimeError(f"watch of {self._args}: {obj}")
        self._version = str(obj["metadata"]["resourceVersion"])
        name = obj["metadata"]["name"]
        if event["type"] == "DELETED":
            self.objects.pop(name, None)
            self.deleted[name] = now
        else:
            if event["type"] == "ADDED":
                self.added.setdefault(name, now)
            self.objects[name] = obj
        self.changed_at[name] = self.last_event = now

    def wait(self, predicate: Callable[[ObjectWatch], bool], *, timeout: float) -> bool:
        """Whether ``predicate(self)`` held within ``timeout`` (re-checked on each event)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def quiet(self, *, for_s: float, timeout: float) -> None:
        """Wait until no event arrived for ``for_s`` (others' writes have settled)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.last_event < for_s and time.monotonic() < deadline:
            time.sleep(for_s / 4)  # waiting for the absence of events: nothing to wake on

    def stop(self) -> None:
        import contextlib  # noqa: PLC0415

        self._stop.set()
        if self._response is not None:
            with contextlib.suppress(Exception):
                self._response.shutdown()
        self._thread.join(timeout=5)


def kube_stats(harness: Harness) -> dict[str, int]:
    """The Kubernetes emulator's request counts per ``"<verb> <resource>"`` and total."""
    url, token, ca = harness._kube_admin()
    response = requests.get(
        f"{url}/_emulator/stats",
        verify=ca,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    counts: dict[str, int] = harness._ok(response)["requests"]
    return counts


def reset_api_stats(harness: Harness) -> None:
    """Zero both emulators' request counts (admin calls are not counted themselves)."""
    url, token, ca = harness._kube_admin()
    harness._ok(
        requests.delete(
            f"{url}/_emulator/stats",
            verify=ca,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    harness._ok(
        requests.delete(
            f"{harness.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {harness.state['github_admin_token']}"},
        )
    )


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


def platform_cpu_seconds(harness: Harness) -> dict[str, float]:
    """CPU seconds used so far by each process the platform started, and by this one.

    A process's children count with it (gunicorn's worker under each function). This
    process (``"benchmark"``) holds the broker and the benchmark's own threads. Linux
    only (/proc).
    """
    seconds = {name: cpu_seconds(pid) for name, pid in harness.platform.pids().items()}
    seconds["benchmark"] = time.process_time()
    return seconds
