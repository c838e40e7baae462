"""Events through the real kubectl: ``describe``, ``get events``, ``kubectl events``.

Covers: ``kubectl describe coderun`` listing, in its ``Events:`` section (Type, Reason,
Age, From, Message), exactly the Events recorded on that CodeRun — not another
CodeRun's, nor those of an earlier CodeRun of the same name (another uid) — found
with the core ``v1`` list and the ``involvedObject`` field selector kubectl sends
(seen with ``-v=6``); ``Events: <none>`` for an object without any; ``describe
workflow`` and ``describe configmap`` (a legacy Event with a count: ``(x3 over …)``);
``kubectl get events`` in a namespace (the apiserver's columns: LAST SEEN, TYPE,
REASON, OBJECT, MESSAGE; ``-o wide`` adding SUBOBJECT, SOURCE, FIRST SEEN, COUNT,
NAME), across namespaces (``-A``), with ``--field-selector`` (and the server's error
for a label it does not support), as JSON; ``kubectl get events.events.k8s.io`` in
the new shape; ``kubectl events --for coderun/<name>``. No RBAC is involved: the
emulator's one token may do everything.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from typing import Any

import pytest

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import Kubectl, coderun, micro_time, new_event, reference

NS = "team"
AGE = re.compile(r"^(\d+s|\d+m(\d+s)?)$")


def _in_team(manifest: dict[str, Any]) -> dict[str, Any]:
    manifest["metadata"]["namespace"] = NS
    return manifest


@pytest.fixture
def objects(kube: KubeEmulator) -> dict[str, dict[str, Any]]:
    """In namespace ``team``: two CodeRuns, a Workflow and a ConfigMap, with Events on
    run-a (two, and one about an earlier run-a), run-b, the Workflow and the ConfigMap;
    and one Event in ``default``."""
    kube.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
    made = {
        "run-a": kube.apply(_in_team(coderun("run-a"))),
        "run-b": kube.apply(_in_team(coderun("run-b"))),
        "play-3": kube.apply(
            _in_team(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Workflow",
                    "metadata": {"name": "play-3"},
                    "spec": {"entrypoint": "main", "templates": [{"name": "main"}]},
                }
            )
        ),
        "state": kube.apply(
            _in_team({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "state"}})
        ),
    }
    run_a = reference(made["run-a"])
    events = [
        new_event("run-a.1", run_a, note="task 3: cancel requested by push-intake", ago=300),
        new_event(
            "run-a.2",
            run_a,
            reason="CancellationForced",
            note="task 3: no acknowledgement within 120s",
            kind="Warning",
            ago=60,
        ),
        new_event("run-a.old", dict(run_a, uid="0ld-u1d"), note="an earlier run-a", ago=900),
        new_event("run-b.1", reference(made["run-b"]), note="run-b's own"),
        new_event(
            "play-3.1",
            reference(made["play-3"]),
            reason="WorkflowResumed",
            note="task 3 resumed at waiting-pr-created",
        ),
    ]
    for event in events:
        kube.apply(event)
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "state.1", "namespace": NS},
            "involvedObject": reference(made["state"]),
            "reason": "StateSaved",
            "message": "task 3 history kept",
            "source": {"component": "remedy"},
            "firstTimestamp": micro_time(3600)[:19] + "Z",
            "lastTimestamp": micro_time(30)[:19] + "Z",
            "count": 3,
            "type": "Normal",
        }
    )
    elsewhere = kube.apply(coderun("run-z"))
    kube.apply(new_event("run-z.1", reference(elsewhere), note="in default"))
    return made


def _columns(line: str) -> list[str]:
    return re.split(r"\s{2,}", line.strip())


def _events_section(described: str) -> list[list[str]]:
    lines = described.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Events:"))
    assert _columns(lines[start + 1]) == ["Type", "Reason", "Age", "From", "Message"]
    assert _columns(lines[start + 2]) == ["----", "------", "----", "----", "-------"]
    return [_columns(line) for line in lines[start + 3 :] if line.strip()]


def test_describe_coderun_shows_its_events(
    kubectl: Kubectl, objects: dict[str, dict[str, Any]]
) -> None:
    described = kubectl("describe", "coderun", "run-a", "-n", NS, "-v=6")
    rows = _events_section(described.stdout)
    assert [(kind, reason, source, note) for kind, reason, _, source, note in rows] == [
        ("Normal", "CancellationRequested", "remedy", "task 3: cancel requested by push-intake"),
        ("Warning", "CancellationForced", "remedy", "task 3: no acknowledgement within 120s"),
    ]
    assert all(AGE.match(age) for _, _, age, _, _ in rows), rows
    assert rows[0][2].startswith("5m") and AGE.match(rows[1][2])
    # The one list kubectl makes for them (its terms come in no fixed order).
    listed = re.findall(r'url="https://[^/]+(/api/v1/[^"?]*/events)\?([^"]*)"', described.stderr)
    assert len(listed) == 1, described.stderr
    path, query = listed[0]
    parameters = urllib.parse.parse_qs(query)
    assert (path, parameters["limit"]) == (f"/api/v1/namespaces/{NS}/events", ["500"])
    assert set(parameters["fieldSelector"][0].split(",")) == {
        "involvedObject.name=run-a",
        f"involvedObject.namespace={NS}",
        "involvedObject.kind=CodeRun",
        f"involvedObject.uid={objects['run-a']['metadata']['uid']}",
    }


def test_describe_without_events_says_none(
    kubectl: Kubectl, kube: KubeEmulator, objects: dict[str, dict[str, Any]]
) -> None:
    kube.apply(_in_team(coderun("run-c")))
    lines = kubectl("describe", "coderun", "run-c", "-n", NS).stdout.splitlines()
    assert _columns(lines[-1]) == ["Events:", "<none>"]


def test_describe_workflow_and_configmap(
    kubectl: Kubectl, objects: dict[str, dict[str, Any]]
) -> None:
    flow = _events_section(kubectl("describe", "workflow", "play-3", "-n", NS).stdout)
    assert [(r[0], r[1], r[3], r[4]) for r in flow] == [
        ("Normal", "WorkflowResumed", "remedy", "task 3 resumed at waiting-pr-created")
    ]
    state = _events_section(kubectl("describe", "configmap", "state", "-n", NS).stdout)
    assert [(r[0], r[1], r[3], r[4]) for r in state] == [
        ("Normal", "StateSaved", "remedy", "task 3 history kept")
    ]
    assert re.fullmatch(r"[34]\ds \(x3 over 60m\)", state[0][2]), state[0][2]


def test_get_events_in_a_namespace(kubectl: Kubectl, objects: dict[str, dict[str, Any]]) -> None:
    lines = kubectl("get", "events", "-n", NS).stdout.splitlines()
    assert _columns(lines[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    rows = [_columns(line)[1:] for line in lines[1:]]
    assert rows == [
        ["Normal", "WorkflowResumed", "workflow/play-3", "task 3 resumed at waiting-pr-created"],
        [
            "Normal",
            "CancellationRequested",
            "coderun/run-a",
            "task 3: cancel requested by push-intake",
        ],
        [
            "Warning",
            "CancellationForced",
            "coderun/run-a",
            "task 3: no acknowledgement within 120s",
        ],
        ["Normal", "CancellationRequested", "coderun/run-a", "an earlier run-a"],
        ["Normal", "CancellationRequested", "coderun/run-b", "run-b's own"],
        ["Normal", "StateSaved", "configmap/state", "task 3 history kept"],
    ]
    wide = kubectl("get", "events", "-n", NS, "-o", "wide").stdout.splitlines()
    assert _columns(wide[0]) == [
        *("LAST SEEN", "TYPE", "REASON", "OBJECT", "SUBOBJECT", "SOURCE", "MESSAGE"),
        *("FIRST SEEN", "COUNT", "NAME"),
    ]
    assert _columns(wide[-1])[4:] == ["remedy", "task 3 history kept", "60m", "3", "state.1"]
    assert _columns(wide[1])[4] == "remedy, agent-cancel-0"
    assert _columns(wide[1])[-2:] == ["1", "play-3.1"]


def test_get_events_everywhere_selected_and_as_json(
    kubectl: Kubectl, objects: dict[str, dict[str, Any]]
) -> None:
    everywhere = kubectl("get", "events", "-A").stdout.splitlines()
    assert _columns(everywhere[0])[:2] == ["NAMESPACE", "LAST SEEN"]
    assert [_columns(line)[0] for line in everywhere[1:]] == ["default"] + [NS] * 6
    selected = kubectl(
        "get", "ev", "-n", NS, "--field-selector", "involvedObject.kind=CodeRun,type=Warning"
    )
    assert [_columns(line)[3] for line in selected.stdout.splitlines()[1:]] == ["coderun/run-a"]
    refused = kubectl("get", "events", "--field-selector", "regarding.name=run-a", check=False)
    assert refused.returncode == 1
    assert "field label not supported: regarding.name" in refused.stderr
    listed = json.loads(kubectl("get", "events", "-n", NS, "-o", "json").stdout)
    first = listed["items"][0]
    assert (first["apiVersion"], first["involvedObject"]["kind"]) == ("v1", "Workflow")
    assert first["reportingComponent"] == "remedy" and first["firstTimestamp"] is None


def test_get_events_k8s_io_and_kubectl_events(
    kubectl: Kubectl, objects: dict[str, dict[str, Any]]
) -> None:
    shown = json.loads(
        kubectl("get", "events.events.k8s.io", "run-a.2", "-n", NS, "-o", "json").stdout
    )
    assert shown["apiVersion"] == "events.k8s.io/v1"
    assert shown["regarding"] == reference(objects["run-a"])
    assert (shown["note"], shown["reportingController"]) == (
        "task 3: no acknowledgement within 120s",
        "remedy",
    )
    # ``kubectl events --for`` selects by kind, apiVersion and name (no uid), so the
    # Event of the earlier run-a shows too, as on a cluster.
    lines = kubectl("events", "-n", NS, "--for", "coderun/run-a").stdout.splitlines()
    assert _columns(lines[0]) == ["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert sorted(_columns(line)[4] for line in lines[1:]) == [
        "an earlier run-a",
        "task 3: cancel requested by push-intake",
        "task 3: no acknowledgement within 120s",
    ]
    assert {_columns(line)[3] for line in lines[1:]} == {"CodeRun/run-a"}
