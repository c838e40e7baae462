"""The real kubectl applying ``v1 List`` manifests, which it validates itself.

kubectl cannot ask the server to validate a List's items (``fieldValidation`` is
probed per kind through OpenAPI v3, and a List is no served kind), so with
``--validate=true|strict`` it fetches ``/openapi/v2`` as protobuf and checks every
item against its kind's definition before sending anything. Covers: a List of two
CodeRuns and a Workflow created, then unchanged, then configured (a JSON merge
patch: the v2 PATCH operations do not offer strategic merge for custom resources),
and server-side applied; an unknown field, a missing required field and a wrong type
refused client-side in kubectl's words with nothing created; ``--validate=false``
and ``--validate=warn`` leaving it to the server (pruned, or a warning); a single
object's unknown field refused by the server instead; a List of built-in kinds
(created, unchanged, a ConfigMap patched by strategic merge from kubectl's own
types, an unknown field and a mistyped ``int32`` refused); a List holding the
CodeRun CRD, checked against the real ``JSONSchemaProps``; ``kubectl explain`` from
the v2 document and, for built-in kinds, from v3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import Kubectl, coderun

CODERUN = "agents.platform/v1", "CodeRun"
WORKFLOW = "argoproj.io/v1alpha1", "Workflow"
REFUSED = "if you choose to ignore these errors, turn validation off with --validate=false"


def _workflow(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {"name": name, "labels": {"task-id": "3"}},
        "spec": {"entrypoint": "main", "templates": [{"name": "main", "suspend": {}}]},
    }


def _list(tmp_path: Path, items: list[dict[str, Any]], name: str = "list.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items}))
    return path


def _play(tmp_path: Path, *, model: str = "claude-sonnet", **extra: Any) -> Path:
    cleo, tess = coderun("cleo-3"), coderun("tess-3", app="5DLabs-Tess")
    cleo["spec"]["model"] = model
    tess["spec"].update(extra)
    return _list(tmp_path, [cleo, tess, _workflow("play-3")])


def _names(kube: KubeEmulator, api_version: str, kind: str) -> list[str]:
    return [item["metadata"]["name"] for item in kube.list(api_version, kind)]


def test_apply_a_list_of_custom_resources(
    kube: KubeEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    created = kubectl("apply", "-f", str(_play(tmp_path))).stdout.splitlines()
    assert created == [
        "coderun.agents.platform/cleo-3 created",
        "coderun.agents.platform/tess-3 created",
        "workflow.argoproj.io/play-3 created",
    ]
    again = kubectl("apply", "-f", str(_play(tmp_path))).stdout
    assert again.count(" unchanged") == 3
    changed = kubectl("apply", "-f", str(_play(tmp_path, model="opus"))).stdout.splitlines()
    assert changed == [
        "coderun.agents.platform/cleo-3 configured",
        "coderun.agents.platform/tess-3 unchanged",
        "workflow.argoproj.io/play-3 unchanged",
    ]
    assert kube.get(*CODERUN, "cleo-3")["spec"]["model"] == "opus"
    assert kube.get(*WORKFLOW, "play-3")["spec"]["entrypoint"] == "main"
    server_side = kubectl("apply", "--server-side", "-f", str(_play(tmp_path, model="haiku")))
    assert server_side.stdout.count(" serverside-applied") == 3
    assert kube.get(*CODERUN, "cleo-3")["spec"]["model"] == "haiku"


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        (
            "unknown field",
            {"foo": "bar"},
            'ValidationError(CodeRun.spec): unknown field "foo" in platform.agents.v1.CodeRun.spec',
        ),
        (
            "wrong type",
            {"taskId": "three"},
            "ValidationError(CodeRun.spec.taskId): invalid type for "
            'platform.agents.v1.CodeRun.spec.taskId: got "string", expected "integer"',
        ),
        (
            "missing required field",
            {"githubApp": None},
            'ValidationError(CodeRun.spec): missing required field "githubApp" in '
            "platform.agents.v1.CodeRun.spec",
        ),
    ],
)
@pytest.mark.parametrize("server_side", [False, True])
def test_invalid_items_are_refused_before_anything_is_sent(
    kube: KubeEmulator,
    kubectl: Kubectl,
    tmp_path: Path,
    case: str,
    extra: dict[str, Any],
    message: str,
    server_side: bool,
) -> None:
    manifest = _play(tmp_path, **extra)
    flags = ["--server-side"] if server_side else []
    refused = kubectl("apply", *flags, "-f", str(manifest), check=False)
    assert refused.returncode == 1, case
    assert refused.stderr.strip() == (
        f'error: error validating "{manifest}": error validating data: {message}; {REFUSED}'
    )
    assert _names(kube, *CODERUN) == [] and _names(kube, *WORKFLOW) == []


def test_without_client_validation_the_server_decides(
    kube: KubeEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    manifest = _play(tmp_path, foo="bar")
    ignored = kubectl("apply", "--validate=false", "-f", str(manifest))
    assert ignored.stdout.count(" created") == 3
    assert "foo" not in kube.get(*CODERUN, "tess-3")["spec"]  # pruned, as a real server does
    kubectl("delete", "-f", str(manifest))
    warned = kubectl("apply", "--validate=warn", "-f", str(manifest))
    assert warned.stdout.count(" created") == 3
    assert 'Warning: unknown field "spec.foo"' in warned.stderr


def test_a_single_object_is_validated_by_the_server(
    kube: KubeEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    run = coderun("rex-3", app="5DLabs-Rex")
    run["spec"]["foo"] = "bar"
    manifest = tmp_path / "run.yaml"
    manifest.write_text(yaml.safe_dump(run))
    refused = kubectl("apply", "-f", str(manifest), check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f'Error from server (BadRequest): error when creating "{manifest}": '
        'strict decoding error: unknown field "spec.foo"'
    )
    assert _names(kube, *CODERUN) == []


def _builtins(*, mode: str = "fast", **config_extra: Any) -> list[dict[str, Any]]:
    meta = {"namespace": "team-a"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}},
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "settings", **meta},
            "data": {"mode": mode},
            **config_extra,
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "token", **meta},
            "stringData": {"token": "abc"},
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": "runner", **meta},
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "leader", **meta},
            "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
        },
    ]


def test_apply_a_list_of_builtin_kinds(
    kube: KubeEmulator, kubectl: Kubectl, tmp_path: Path
) -> None:
    manifest = _list(tmp_path, _builtins())
    assert kubectl("apply", "-f", str(manifest)).stdout.count(" created") == 5
    assert kubectl("apply", "-f", str(manifest)).stdout.count(" unchanged") == 5
    changed = kubectl("apply", "-f", str(_list(tmp_path, _builtins(mode="slow"))), "-v=8")
    assert "configmap/settings configured" in changed.stdout
    assert "Content-Type: application/strategic-merge-patch+json" in changed.stderr
    assert kube.get("v1", "ConfigMap", "settings", "team-a")["data"] == {"mode": "slow"}

    unknown = _list(tmp_path, _builtins(foo=1), "unknown.yaml")
    refused = kubectl("apply", "-f", str(unknown), check=False)
    assert refused.returncode == 1
    assert (
        'ValidationError(ConfigMap): unknown field "foo" in io.k8s.api.core.v1.ConfigMap'
        in refused.stderr
    )
    items = _builtins()
    items[4]["spec"]["leaseDurationSeconds"] = "15"
    mistyped = kubectl("apply", "-f", str(_list(tmp_path, items, "typed.yaml")), check=False)
    assert mistyped.returncode == 1
    assert (
        "invalid type for io.k8s.api.coordination.v1.LeaseSpec.leaseDurationSeconds: "
        'got "string", expected "integer"'
    ) in mistyped.stderr


def test_a_list_holding_a_crd_is_checked_against_json_schema_props(
    tmp_path: Path, reference_dir: Path
) -> None:
    crd = yaml.safe_load((reference_dir / "cto-coderun-crd.yaml").read_text())
    with KubeEmulator(install_crds=False) as bare:
        kubectl = Kubectl(bare.write_kubeconfig(tmp_path / "kubeconfig"), tmp_path / "cache")
        applied = kubectl("apply", "-f", str(_list(tmp_path, [crd])))
        assert applied.stdout.strip() == (
            "customresourcedefinition.apiextensions.k8s.io/coderuns.agents.platform created"
        )
        crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["typ"] = "object"
        refused = kubectl("apply", "-f", str(_list(tmp_path, [crd], "bad.yaml")), check=False)
    assert refused.returncode == 1
    assert (
        'unknown field "typ" in '
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps" in refused.stderr
    )


def test_explain_reads_both_documents(kubectl: Kubectl) -> None:
    from_v2 = kubectl("explain", "coderun.spec", "--output=plaintext-openapiv2").stdout
    assert "RESOURCE: spec <Object>" in from_v2
    assert "taskId\t<integer>" in from_v2 and "Task ID to implement" in from_v2
    config = kubectl("explain", "configmap.data").stdout
    assert "FIELD: data <map[string]string>" in config
    assert "Data contains the configuration data." in config
    meta = kubectl("explain", "coderun.metadata.ownerReferences").stdout
    assert "FIELD: ownerReferences <[]OwnerReference>" in meta
