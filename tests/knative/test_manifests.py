"""Every manifest in knative/ parses and is structurally a valid object of its kind.

No Kubernetes API server is available offline (and the Kubernetes emulator does not
serve RBAC, apps or Knative kinds), so validity is checked structurally:
- every YAML file (alternatives included) parses into mappings of a known
  apiVersion/kind, with the fields that kind requires;
- names are DNS-1123 (labels where Kubernetes demands them), namespaced objects name
  their namespace explicitly (there is no kustomize namespace transformer), label and
  annotation keys and values have Kubernetes syntax, everything carries
  app.kubernetes.io/part-of: remedy;
- Deployments select their own pods, Services select an existing Deployment's pods;
- kustomization.yaml lists every file but the alternatives, and `kubectl kustomize`
  (offline) renders exactly those objects with the function image rewritten.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.knative.support import (
    KNATIVE,
    Manifest,
    applied,
    kustomization,
    load_file,
    yaml_files,
)
from tests.support.kubectl import kubectl_binary

DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")

REQUIRED: dict[tuple[str, str], tuple[str, ...]] = {
    ("v1", "Namespace"): (),
    ("v1", "ConfigMap"): ("data",),
    ("v1", "ServiceAccount"): (),
    ("v1", "Service"): ("spec.selector", "spec.ports"),
    ("apps/v1", "Deployment"): (
        "spec.selector.matchLabels",
        "spec.template.metadata.labels",
        "spec.template.spec.containers",
    ),
    ("networking.k8s.io/v1", "NetworkPolicy"): ("spec.podSelector",),
    ("rbac.authorization.k8s.io/v1", "Role"): ("rules",),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): ("subjects", "roleRef"),
    ("serving.knative.dev/v1", "Service"): ("spec.template.spec.containers",),
    ("eventing.knative.dev/v1", "Broker"): (),
    ("eventing.knative.dev/v1", "Trigger"): ("spec.broker", "spec.subscriber"),
    ("sources.knative.dev/v1", "PingSource"): ("spec.schedule", "spec.sink"),
    ("sources.knative.dev/v1", "SinkBinding"): ("spec.subject", "spec.sink"),
    ("sources.knative.dev/v1alpha1", "GitHubSource"): (
        "spec.eventTypes",
        "spec.ownerAndRepository",
        "spec.accessToken.secretKeyRef",
        "spec.secretToken.secretKeyRef",
        "spec.sink",
    ),
}
CLUSTER_SCOPED = {"Namespace"}
LABEL_NAMED = {"Namespace", "Service", "Deployment"}  # names Kubernetes limits to 63
ALL_DOCS = [
    pytest.param(
        path,
        doc,
        id=f"{path.relative_to(KNATIVE)}:{doc.get('kind')}/{doc.get('metadata', {}).get('name')}",
    )
    for path in yaml_files()
    if path.name != "kustomization.yaml"
    for doc in load_file(path)
]


def dig(document: Manifest, dotted: str) -> Any:
    node: Any = document
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def valid_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(LABEL_NAME.match(name))


def test_every_file_parses() -> None:
    assert yaml_files(), "no manifests found"
    for path in yaml_files():
        documents = list(yaml.safe_load_all(path.read_text()))
        assert all(isinstance(d, dict) for d in documents if d is not None), path


@pytest.mark.parametrize(("path", "document"), ALL_DOCS)
def test_structure(path: Path, document: Manifest) -> None:
    key = (document.get("apiVersion"), document.get("kind"))
    assert key in REQUIRED, f"{path}: unknown {key}"
    for field in REQUIRED[key]:
        assert dig(document, field) not in (None, [], {}), f"{path}: {key} needs {field}"
    metadata = document["metadata"]
    name = metadata["name"]
    pattern, limit = (DNS_LABEL, 63) if document["kind"] in LABEL_NAMED else (DNS_SUBDOMAIN, 253)
    assert len(name) <= limit and pattern.match(name), f"{path}: bad name {name!r}"
    if document["kind"] in CLUSTER_SCOPED:
        assert "namespace" not in metadata
    else:
        assert DNS_LABEL.match(metadata.get("namespace", "")), f"{path}: {name} needs a namespace"


@pytest.mark.parametrize(("path", "document"), ALL_DOCS)
def test_labels_and_annotations(path: Path, document: Manifest) -> None:
    assert document["metadata"].get("labels", {}).get("app.kubernetes.io/part-of") == "remedy"
    for where in ("metadata", "spec.template.metadata"):
        node = dig(document, where) or {}
        for key, value in (node.get("labels") or {}).items():
            assert valid_key(key), f"{path}: label key {key!r}"
            assert isinstance(value, str), f"{path}: label {key} must be a string"
            assert value == "" or (len(value) <= 63 and LABEL_NAME.match(value)), f"{key}={value}"
        for key, value in (node.get("annotations") or {}).items():
            assert valid_key(key), f"{path}: annotation key {key!r}"
            assert isinstance(value, str), f"{path}: annotation {key} must be a string"


def test_deployments_select_their_own_pods_and_services_select_deployments() -> None:
    deployments = [doc for _, doc in applied() if doc["kind"] == "Deployment"]
    pod_labels = [doc["spec"]["template"]["metadata"]["labels"] for doc in deployments]
    for doc, labels in zip(deployments, pod_labels, strict=True):
        selector = doc["spec"]["selector"]["matchLabels"]
        assert selector.items() <= labels.items(), doc["metadata"]["name"]
    for _, doc in applied():
        if (doc["apiVersion"], doc["kind"]) == ("v1", "Service"):
            selector = doc["spec"]["selector"]
            assert any(selector.items() <= labels.items() for labels in pod_labels), doc


def test_kustomization_lists_every_manifest_but_the_alternatives() -> None:
    content = kustomization()
    assert "namespace" not in content, "a namespace transformer would move the Roles"
    listed = content["resources"]
    assert len(listed) == len(set(listed))
    expected = {
        str(p.relative_to(KNATIVE))
        for p in yaml_files()
        if p.name != "kustomization.yaml" and "alternatives" not in p.parts
    }
    assert set(listed) == expected


def test_kubectl_kustomize_renders_the_listed_objects() -> None:
    rendered = subprocess.run(
        [str(kubectl_binary()), "kustomize", str(KNATIVE)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    objects = [doc for doc in yaml.safe_load_all(rendered) if doc]
    assert len(objects) == len(applied())
    image = kustomization()["images"][0]
    functions = [o for o in objects if o["apiVersion"] == "serving.knative.dev/v1"]
    assert functions
    for service in functions:
        (container,) = service["spec"]["template"]["spec"]["containers"]
        assert container["image"] == f"{image['newName']}:{image['newTag']}"
