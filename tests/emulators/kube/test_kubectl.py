"""A scripted session of the real kubectl against the emulator.

Covers, in the order a person would type them: applying the real CodeRun CRD to an
empty emulator and waiting for it to be established; applying CodeRuns (created,
then unchanged, then configured); ``kubectl get`` printing the CRD's printer
columns; ``-l 'task-id=3,github-app in (5DLabs-Cleo,5DLabs-Tess)'``; merge, JSON and
status patches; the strategic-merge default refused for a custom resource;
``kubectl label``; a stale ``kubectl replace`` that must conflict; delete; ``kubectl
wait`` for a condition, a JSONPath value and deletion; ``kubectl get -w`` following
changes; ``kubectl explain`` from the CRD schema; ``kubectl version`` without skew;
the real server's error for a bad selector; namespaces and ConfigMaps from manifests
and from ``kubectl create`` (which sends protobuf), Secrets too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import POLL_S, Kubectl, coderun
from tests.support.waiting import eventually

CODERUN = "agents.platform/v1", "CodeRun"


@pytest.fixture
def bare() -> Any:
    """An emulator without remedy's CRDs: the session installs the CRD itself."""
    with KubeEmulator(install_crds=False) as emulator:
        yield emulator


@pytest.fixture
def session(bare: KubeEmulator, tmp_path: Path) -> Kubectl:
    return Kubectl(bare.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path / "cache")


def _runs_file(tmp_path: Path, model: str = "claude-sonnet") -> Path:
    runs = [
        coderun("cleo-3", app="5DLabs-Cleo"),
        coderun("tess-3", app="5DLabs-Tess"),
        coderun("rex-3", app="5DLabs-Rex"),
        coderun("cleo-4", task=4, app="5DLabs-Cleo"),
    ]
    for run in runs:
        run["spec"]["model"] = model
    path = tmp_path / "runs.yaml"
    path.write_text(yaml.safe_dump_all(runs))
    return path


def _watching(kube: KubeEmulator, plural: str, count: int = 1) -> bool:
    return kube.stats.snapshot().get(f"watch {plural}", 0) >= count


def test_scripted_session(
    bare: KubeEmulator, session: Kubectl, reference_dir: Path, tmp_path: Path
) -> None:
    kubectl = session
    crd = kubectl("apply", "-f", str(reference_dir / "cto-coderun-crd.yaml"))
    assert (
        crd.stdout.strip()
        == "customresourcedefinition.apiextensions.k8s.io/coderuns.agents.platform created"
    )
    kubectl(
        "wait", "--for", "condition=established", "crd/coderuns.agents.platform", "--timeout=10s"
    )

    runs = _runs_file(tmp_path)
    assert kubectl("apply", "-f", str(runs)).stdout.count(" created") == 4
    assert kubectl("apply", "-f", str(runs)).stdout.count(" unchanged") == 4
    changed = kubectl("apply", "-f", str(_runs_file(tmp_path, model="opus")))
    assert changed.stdout.count(" configured") == 4
    assert {r["spec"]["model"] for r in bare.list(*CODERUN)} == {"opus"}

    table = kubectl("get", "coderuns").stdout.splitlines()
    assert table[0].split() == ["NAME", "TYPE", "TASK", "SERVICE", "MODEL", "PHASE", "AGE"]
    assert table[1].split()[:5] == [
        "cleo-3",
        "implementation",
        "3",
        "svc",
        "opus",
    ]

    selected = kubectl(
        "get", "cr", "-l", "task-id=3,github-app in (5DLabs-Cleo,5DLabs-Tess)", "-o", "name"
    )
    assert selected.stdout.split() == [
        "coderun.agents.platform/cleo-3",
        "coderun.agents.platform/tess-3",
    ]

    kubectl("patch", "cr", "cleo-3", "--type=merge", "-p", '{"spec":{"model":"haiku"}}')
    kubectl(
        "patch",
        "cr",
        "cleo-3",
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status":{"phase":"Running"}}',
    )
    kubectl(
        "patch",
        "cr",
        "tess-3",
        "--type=json",
        "-p",
        '[{"op":"replace","path":"/spec/model","value":"x"}]',
    )
    cleo = bare.get(*CODERUN, "cleo-3")
    assert (cleo["spec"]["model"], cleo["status"]["phase"]) == ("haiku", "Running")
    assert bare.get(*CODERUN, "tess-3")["spec"]["model"] == "x"

    refused = kubectl("patch", "cr", "cleo-3", "-p", '{"spec":{"model":"y"}}', check=False)
    assert refused.returncode == 1
    assert "application/strategic-merge-patch+json is not supported" in refused.stderr

    kubectl("label", "cr", "tess-3", "stage=qa")
    assert kubectl("get", "cr", "-l", "stage=qa", "-o", "name").stdout.split() == [
        "coderun.agents.platform/tess-3"
    ]

    stale = tmp_path / "stale.json"
    stale.write_text(kubectl("get", "cr", "rex-3", "-o", "json").stdout)
    kubectl("label", "cr", "rex-3", "bumped=yes")
    conflict = kubectl("replace", "-f", str(stale), check=False)
    assert conflict.returncode == 1
    assert 'Error from server (Conflict): error when replacing "' in conflict.stderr
    assert (
        "the object has been modified; please apply your changes to the latest version"
        in conflict.stderr
    )

    deleted = kubectl("delete", "cr", "rex-3")
    assert deleted.stdout.startswith('coderun.agents.platform "rex-3" deleted')
    assert [r["metadata"]["name"] for r in bare.list(*CODERUN)] == ["cleo-3", "cleo-4", "tess-3"]

    kubectl("wait", "--for=jsonpath={.status.phase}=Running", "cr/cleo-3", "--timeout=10s")

    explained = kubectl("explain", "coderuns.spec.taskId").stdout
    assert "Task ID to implement" in explained
    assert "Server Version: v1.37" in kubectl("version").stdout


def test_wait_for_delete(kube: KubeEmulator, kubectl: Kubectl) -> None:
    kube.apply(coderun("leaving"))
    waiting = kubectl.start("wait", "--for=delete", "cr/leaving", "--timeout=20s")
    eventually(lambda: _watching(kube, "coderuns"), every=POLL_S, what="kubectl's watch")
    kube.cluster.delete(kube.cluster.resource(*CODERUN), "default", "leaving")
    out, err = waiting.communicate(timeout=20)
    assert waiting.returncode == 0, err
    assert "condition met" in out


def test_get_watch_follows_changes(kube: KubeEmulator, kubectl: Kubectl) -> None:
    kube.apply(coderun("watched"))
    watching = kubectl.start("get", "cr", "-w", "--request-timeout=15s")
    try:
        eventually(lambda: _watching(kube, "coderuns"), every=POLL_S, what="kubectl's watch")
        run = kube.get(*CODERUN, "watched")
        run["status"] = {"phase": "Succeeded"}
        kube.apply(run)
        assert watching.stdout is not None
        lines = [watching.stdout.readline() for _ in range(3)]
    finally:
        watching.terminate()
        watching.communicate(timeout=10)
    assert lines[0].split() == ["NAME", "TYPE", "TASK", "SERVICE", "MODEL", "PHASE", "AGE"]
    assert lines[1].split()[0] == "watched"
    assert lines[2].split()[:6] == [
        "watched",
        "implementation",
        "3",
        "svc",
        "claude-sonnet",
        "Succeeded",
    ]


def test_bad_selector_error_is_the_servers(kubectl: Kubectl) -> None:
    failed = kubectl("get", "cr", "-l", "task id=3", check=False)
    assert failed.returncode == 1
    assert failed.stderr.strip() == (
        'Error from server (BadRequest): Unable to find "agents.platform/v1, Resource=coderuns" '
        'that match label selector "task id=3", field selector "": unable to parse requirement: '
        "found 'id', expected: in, notin, =, ==, !=, gt, lt"
    )


def test_namespaces_and_configmaps(kube: KubeEmulator, kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: work\n---\n"
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  "
        "namespace: work\ndata:\n  a: b\n"
    )
    kubectl("apply", "-f", str(manifest))
    manifest.write_text(manifest.read_text().replace("a: b", "a: c"))
    kubectl("apply", "-f", str(manifest))
    assert kube.get("v1", "ConfigMap", "settings", "work")["data"] == {"a": "c"}
    table = kubectl("get", "cm", "-n", "work").stdout.split()
    assert table[:4] == ["NAME", "DATA", "AGE", "settings"]
    kubectl("create", "namespace", "made")
    kubectl("create", "configmap", "literal", "-n", "made", "--from-literal=k=v")
    assert kube.get("v1", "ConfigMap", "literal", "made")["data"] == {"k": "v"}
    kubectl("create", "secret", "generic", "token", "-n", "made", "--from-literal=p=q")
    secret = kube.get("v1", "Secret", "token", "made")
    assert (secret["type"], secret["data"]) == ("Opaque", {"p": "cQ=="})
    kubectl("delete", "namespace", "work", "made")
    names = json.loads(kubectl("get", "ns", "-o", "json").stdout)
    assert {item["metadata"]["name"] for item in names["items"]} == {
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
    }
