"""The knative/ manifests as data, for the deployment tests."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
KNATIVE = ROOT / "knative"
FUNCTIONS = (
    "webhook-gateway",
    "push-intake",
    "agent-cancel",
    "label-update",
    "workflow-resume",
    "feedback-intake",
    "control-api",
    "reconciler",
)
EXTERNAL = frozenset({"webhook-gateway", "control-api"})
NAMESPACE = "remedy"

Manifest = Mapping[str, Any]


def yaml_files() -> list[Path]:
    """Every YAML file under knative/, the alternatives included."""
    return sorted(p for p in KNATIVE.rglob("*.y*ml") if p.is_file())


@functools.cache
def _parsed(path: Path) -> tuple[Manifest, ...]:
    return tuple(doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None)


def load_file(path: Path) -> list[Manifest]:
    """The documents of one file (parsed once per test session; do not mutate)."""
    return list(_parsed(path))


def kustomization() -> Manifest:
    loaded: Manifest = yaml.safe_load((KNATIVE / "kustomization.yaml").read_text())
    return loaded


def applied() -> list[tuple[Path, Manifest]]:
    """The documents `kubectl apply -k knative/` applies, with their files."""
    return [
        (KNATIVE / entry, doc)
        for entry in kustomization()["resources"]
        for doc in load_file(KNATIVE / entry)
    ]


def of_kind(kind: str, api_version: str | None = None) -> list[Manifest]:
    return [
        doc
        for _, doc in applied()
        if doc["kind"] == kind and (api_version is None or doc["apiVersion"] == api_version)
    ]


def ksvc(name: str) -> Manifest:
    (found,) = [
        doc
        for doc in of_kind("Service", "serving.knative.dev/v1")
        if doc["metadata"]["name"] == name
    ]
    return found


def container(service: Manifest) -> Manifest:
    (only,) = service["spec"]["template"]["spec"]["containers"]
    result: Manifest = only
    return result


def env(service: Manifest) -> dict[str, Any]:
    """name -> value, or -> valueFrom for references."""
    return {
        item["name"]: item.get("value", item.get("valueFrom"))
        for item in container(service).get("env", [])
    }


RBAC = "rbac.authorization.k8s.io/v1"
Permissions = dict[tuple[str, str, str], frozenset[str]]
"""(namespace, API group, resource) -> verbs."""


def account(function: str) -> str:
    """The ServiceAccount a function runs as."""
    return f"remedy-{function}"


def permissions_of(service_account: str) -> Permissions:
    """What the applied Roles and RoleBindings grant ``service_account``, per namespace."""
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]): r for r in of_kind("Role", RBAC)}
    granted: dict[tuple[str, str, str], set[str]] = {}
    for binding in of_kind("RoleBinding", RBAC):
        subjects = binding["subjects"]
        if not any(
            s["kind"] == "ServiceAccount" and s["name"] == service_account for s in subjects
        ):
            continue
        namespace = binding["metadata"]["namespace"]
        role = roles[(namespace, binding["roleRef"]["name"])]
        for rule in role["rules"]:
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    granted.setdefault((namespace, group, resource), set()).update(rule["verbs"])
    return {key: frozenset(value) for key, value in granted.items()}
