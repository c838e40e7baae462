"""A running ``remedy up --demo`` seen from outside: what the e2e tests send and read.

Senders speak the platform's real protocols: a signed webhook to webhook-gateway, in
either content type GitHub posts (``application/json``, or a form whose ``payload``
field is the JSON), and Knative GitHubSource's CloudEvent straight to the broker
ingress. Readers look where the effects land: the play workflow, the CodeRuns and the
task's remediation state (Kubernetes API), GitHub requests (the emulator's admin
stats), push-intake's idempotency ledger entries (Redis), and the broker's deliveries.
The broker runs inside ``remedy up`` and serves no stats, so its records are read from
the line it logs when a delivery ends (``delivered <type> <id> -> <trigger> …``, written
once the subscriber has answered): a count of those is a count of handled events.
"""

from __future__ import annotations

import functools
import json
import re
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import requests
from cloudevents.conversion import to_binary
from cloudevents.http import CloudEvent
from kubernetes import client

from remedy.adapters.kube.api import KubeRemediationStates, api_client
from remedy.adapters.redis.ledger import Ledger
from remedy.adapters.redis.ledger_keys import LedgerKey
from remedy.adapters.redis.ledger_models import EntryStatus
from remedy.domain import agents
from remedy.domain import workflows as wf
from remedy.domain.remediation import RemediationState
from remedy.domain.signatures import sign
from remedy.events.catalogue import PING, PUSH
from remedy.handlers.common.once import scoped_source
from tests.support.waiting import eventually

TASK = 12
WORKFLOW = f"play-task-{TASK}"
SOURCE = "https://github.com/5dlabs/cto"
GATE = "waiting-ready-for-qa"
RESUMED_BY = "Resumed by: remedy"
# the real Triggers' names (knative/functions/*.yaml), as the broker logs them
PUSH_TRIGGER = "push-intake-github-push"
PING_TRIGGER = "reconciler-ping"

_DELIVERED = re.compile(
    r" remedy\.local\.broker: delivered (\S+) (\S+) -> (\S+) attempt \d+: HTTP (\d{3}) \((\w+)\)$"
)


@dataclass(frozen=True)
class Reply:
    """What push-intake answered one delivery with, as its ledger entry recorded it."""

    event_id: str
    epoch: int


@dataclass(frozen=True)
class Demo:
    state: dict[str, Any]
    workdir: Path
    state_file: Path

    # -- sending ----------------------------------------------------------------------

    @property
    def push(self) -> dict[str, Any]:
        """The demo's push webhook (Rex's fix on task-12-demo)."""
        payload: dict[str, Any] = json.loads(Path(self.state["demo"]["push_file"]).read_text())
        return payload

    def webhook(self, payload: dict[str, Any], *, delivery: str, form: bool = False) -> None:
        """POST ``payload`` to webhook-gateway as GitHub does, signed; fails unless 202."""
        document = json.dumps(payload).encode()
        body = urllib.parse.urlencode({"payload": document}).encode() if form else document
        kind = "application/x-www-form-urlencoded" if form else "application/json"
        secret = self.state["webhook_secret"].split(",")[0].encode()
        response = requests.post(
            self.state["gateway_url"],
            data=body,
            timeout=30,
            headers={
                "X-GitHub-Event": "push",
                "X-GitHub-Delivery": delivery,
                "X-Hub-Signature-256": sign(secret, body),
                "Content-Type": kind,
                "User-Agent": "GitHub-Hookshot/e2e",
            },
        )
        assert response.status_code == 202, response.text

    def github_source(self, payload: dict[str, Any], *, delivery: str) -> None:
        """``payload`` as Knative's GitHubSource sends it: a binary CloudEvent to the
        broker ingress, with GitHubSource's attributes and its re-serialised data."""
        owner, name = payload["repository"]["full_name"].split("/")
        event = CloudEvent(
            {
                "type": PUSH,
                "source": f"https://github.com/{owner}/{name}",
                "id": delivery,
                "subject": payload["compare"].rsplit("/", 1)[-1],
                "datacontenttype": "application/json",
                # GitHubSource's push extensions; a push without an installation has ID 0
                "owner": owner,
                "repository": name,
                "installation": "0",
                "sender": payload["sender"]["login"],
                "pusher": payload["pusher"]["name"],
                "ref": payload["ref"],
                "created": str(payload["created"]).lower(),
                "deleted": str(payload["deleted"]).lower(),
                "forced": str(payload["forced"]).lower(),
            },
            github_source_data(payload),
        )
        headers, body = to_binary(event)
        response = requests.post(self.state["broker_url"], data=body, headers=headers, timeout=30)
        assert response.status_code == 202, response.text

    # -- reading Kubernetes -----------------------------------------------------------

    @functools.cached_property
    def api(self) -> client.ApiClient:
        return api_client(self.state["kubeconfig"])

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def workflow(self) -> dict[str, Any]:
        found = self.custom.get_namespaced_custom_object(
            "argoproj.io", "v1alpha1", "argo", "workflows", WORKFLOW
        )
        return cast(dict[str, Any], found)

    def coderuns(self) -> dict[str, dict[str, Any]]:
        listing = cast(
            dict[str, Any],
            self.custom.list_namespaced_custom_object(
                "agents.platform", "v1", "agent-platform", "coderuns"
            ),
        )
        return {run["metadata"]["name"]: run for run in listing["items"]}

    def remediation(self) -> tuple[RemediationState, str]:
        """The task's remediation state and its ConfigMap's resourceVersion."""
        state, version = KubeRemediationStates(self.api, namespace="remedy").load(TASK)
        assert state is not None and version is not None, "task 12 has no remediation state"
        return state, version

    def versions(self) -> dict[str, str]:
        """resourceVersion of every object a push could change: any write shows here."""
        runs = self.coderuns()
        versions = {f"coderun {name}": r["metadata"]["resourceVersion"] for name, r in runs.items()}
        return {
            "workflow": self.workflow()["metadata"]["resourceVersion"],
            "remediation state": self.remediation()[1],
            **versions,
        }

    # -- reading GitHub, Redis and the broker -----------------------------------------

    def github_requests(self) -> int:
        """Every GitHub API request the emulator has answered so far (admin ones excluded)."""
        response = requests.get(
            f"{self.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {self.state['github_admin_token']}"},
        )
        assert response.ok, response.text
        return int(response.json()["total"])

    @functools.cached_property
    def ledger(self) -> Ledger:
        return Ledger.from_urls(self.state["redis_urls"])

    def push_intake_reply(self, delivery: str) -> Reply | None:
        """push-intake's reply to push ``delivery`` from GitHub, once its entry is done."""
        key = LedgerKey.for_event(scoped_source("push-intake", SOURCE), delivery)
        entry = self.ledger.get(key)
        if entry is None or entry.status is not EntryStatus.DONE or entry.result is None:
            return None
        if "event" not in entry.result:
            raise AssertionError(
                f"push-intake answered {delivery} without an event: {entry.result}"
            )
        event = json.loads(entry.result["event"])
        return Reply(event_id=event["id"], epoch=int(event["data"]["epoch"]))

    def deliveries(self) -> Counter[tuple[str, str]]:
        """Deliveries the broker finished with a 2xx, by (event id, trigger)."""
        text = (self.workdir / "up.log").read_text(errors="replace")
        counts: Counter[tuple[str, str]] = Counter()
        for line in text.split("\n")[:-1]:  # the last piece may be a line being written
            found = _DELIVERED.search(line)
            if found and found[4].startswith("2"):
                counts[(found[2], found[3])] += 1
        return counts

    def ticks(self) -> int:
        """Reconciler ticks finished so far (pings it answered 2xx)."""
        text = (self.workdir / "up.log").read_text(errors="replace")
        return sum(
            1
            for found in map(_DELIVERED.search, text.split("\n")[:-1])
            if found and found[1] == PING and found[3] == PING_TRIGGER and found[4][0] == "2"
        )

    def wait_ticks(self, count: int) -> None:
        """Until ``count`` more reconciler ticks have finished. Pings are a second apart and
        a tick takes milliseconds, so all but the first of them started after this call."""
        start = self.ticks()
        eventually(lambda: self.ticks() >= start + count, timeout=10 + 5 * count, every=0.1)


def github_source_data(payload: dict[str, Any]) -> dict[str, Any]:
    """GitHubSource's re-serialisation of a push: fewer keys, false fields dropped, and
    ``repository.pushed_at`` an RFC 3339 string instead of GitHub's unix seconds."""
    keep = ("ref", "before", "after", "created", "deleted", "forced", "compare", "pusher")
    data = {k: payload[k] for k in keep if payload.get(k) not in (None, False)}
    repository = payload["repository"]
    data["repository"] = {k: repository[k] for k in ("name", "full_name", "owner", "html_url")}
    moment = datetime.fromtimestamp(repository["pushed_at"], tz=UTC)
    data["repository"]["pushed_at"] = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    data["sender"] = {"login": payload["sender"]["login"]}
    return data


def resume_messages(workflow: dict[str, Any]) -> Counter[str]:
    """remedy's "Resumed by" node messages, counted: one per node it resumed."""
    messages = (node.get("message", "") for node in workflow["status"]["nodes"].values())
    return Counter(m for m in messages if m.startswith(RESUMED_BY))


def waiting_at(workflow: dict[str, Any]) -> list[str | None]:
    """The stages of the workflow's running Suspend nodes."""
    return [node.stage for node in wf.active_suspend_nodes(workflow)]


def head_of(obj: dict[str, Any]) -> str | None:
    return (obj["metadata"].get("annotations") or {}).get(agents.HEAD_SHA)


def is_quality(run: dict[str, Any]) -> bool:
    """A quality-stage (Cleo) run the workflow created."""
    return bool(run["metadata"]["labels"].get("workflow-stage") == "quality")
