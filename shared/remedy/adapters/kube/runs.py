"""Creating remediation CodeRuns with the official Kubernetes client.

feedback-intake names each run deterministically (task and iteration), so creating it
twice — a retried delivery, a crash after the create — meets 409 AlreadyExists, which
counts as done: the run exists, exactly once. Other answers map onto the delivery's
fate: throttling, 5xx, a missing namespace or CRD and a refused permission are worth
retrying (an operator can fix them and the broker redelivers); a body the apiserver
finds invalid never becomes valid and is rejected.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from remedy.adapters.kube.api import CODERUN
from remedy.adapters.kube.rest import Rest, custom_path
from remedy.domain.feedback import RunMade
from remedy.ports import Rejected, RetryLater


class KubeRemediationRuns:
    """:class:`remedy.handlers.feedback.effects.RemediationRuns` in one namespace."""

    def __init__(self, api: client.ApiClient, *, namespace: str) -> None:
        self._rest = Rest(api)
        self.namespace = namespace

    def create(self, body: Mapping[str, Any]) -> RunMade:
        obj: dict[str, Any] = copy.deepcopy(dict(body))
        obj.setdefault("metadata", {})["namespace"] = self.namespace
        name = str(obj["metadata"].get("name", "?"))
        try:
            # its answer's uid names the run in its Event
            created = self._rest.request(
                "POST", custom_path(*CODERUN), {"namespace": self.namespace}, body=obj
            )
        except ApiException as exc:
            if exc.status == 409:
                return RunMade("exists", self.namespace, name)
            what = f"creating coderun {self.namespace}/{name}: Kubernetes answered {exc.status}"
            if exc.status in (400, 422):
                raise Rejected(f"{what} ({_message(exc)})") from exc
            raise RetryLater(f"{what} ({_message(exc)})") from exc
        uid = str((created.get("metadata") or {}).get("uid", ""))
        return RunMade("created", self.namespace, name, uid)


def _message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message", ""))[:300]
    except ValueError:
        return str(exc.body or exc.reason)[:300]
