"""Server-side Tables (what ``kubectl get`` asks for) and content negotiation.

Covers: ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io`` answered with a
``meta.k8s.io/v1`` Table whose columns are the CRD's additionalPrinterColumns after
Name, cells typed as the apiextensions table convertor types them (integers as
numbers, dates as ages, missing values null), rows carrying PartialObjectMetadata,
the full object or nothing per ``includeObject``; built-in kinds' own columns;
kubectl's age format; YAML output; 406 when no acceptable type is offered.
"""

from __future__ import annotations

import pytest
import yaml

from remedy.local.emulators.kube import KubeEmulator
from remedy.local.emulators.kube.durations import human_duration
from tests.emulators.kube.support import Http, coderun

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
CODERUNS = "/apis/agents.platform/v1/namespaces/default/coderuns"


def test_coderun_table_uses_printer_columns(kube: KubeEmulator, http: Http) -> None:
    kube.apply(coderun("cleo-3"))
    table = http("GET", CODERUNS, headers={"Accept": TABLE}).json()
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    columns = [(c["name"], c["type"]) for c in table["columnDefinitions"]]
    assert columns == [
        ("Name", "string"),
        ("Type", "string"),
        ("Task", "integer"),
        ("Service", "string"),
        ("Model", "string"),
        ("Phase", "string"),
        ("Age", "date"),
    ]
    (row,) = table["rows"]
    name, run_type, task, service, model, phase, age = row["cells"]
    assert (name, run_type, task, service, model, phase) == (
        "cleo-3",
        "implementation",
        3,
        "svc",
        "claude-sonnet",
        None,
    )
    assert age.endswith("s")
    assert row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"]["github-app"] == "5DLabs-Cleo"
    assert table["metadata"]["resourceVersion"] == str(kube.store.resource_version)


@pytest.mark.parametrize(("include", "kind"), [("Object", "CodeRun"), ("None", None)])
def test_include_object(kube: KubeEmulator, http: Http, include: str, kind: str | None) -> None:
    kube.apply(coderun("x"))
    row = http("GET", f"{CODERUNS}/x?includeObject={include}", headers={"Accept": TABLE}).json()[
        "rows"
    ][0]
    assert (row.get("object") or {}).get("kind") == kind


def test_builtin_columns(kube: KubeEmulator, http: Http) -> None:
    kube.apply(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "cm"},
            "data": {"a": "1", "b": "2"},
        }
    )
    table = http("GET", "/api/v1/namespaces/default/configmaps", headers={"Accept": TABLE}).json()
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    assert table["rows"][0]["cells"][:2] == ["cm", 2]
    namespaces = http("GET", "/api/v1/namespaces", headers={"Accept": TABLE}).json()
    assert ["default", "Active"] in [row["cells"][:2] for row in namespaces["rows"]]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (0, "0s"),
        (119, "119s"),
        (125, "2m5s"),
        (600, "10m"),
        (3 * 3600 + 120, "3h2m"),
        (50 * 3600, "2d2h"),
        (400 * 86400, "400d"),
    ],
)
def test_human_duration(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text


def test_yaml_and_not_acceptable(kube: KubeEmulator, http: Http) -> None:
    kube.apply(coderun("y"))
    as_yaml = http("GET", f"{CODERUNS}/y", headers={"Accept": "application/yaml"})
    assert as_yaml.headers["Content-Type"] == "application/yaml"
    assert yaml.safe_load(as_yaml.text)["metadata"]["name"] == "y"
    refused = http(
        "GET", f"{CODERUNS}/y", headers={"Accept": "application/vnd.kubernetes.protobuf"}
    )
    assert (refused.status_code, refused.json()["reason"]) == (406, "NotAcceptable")
