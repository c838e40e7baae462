"""Least privilege: each function gets exactly the namespaced access it uses, no more.

Covers:
- no ClusterRole or ClusterRoleBinding anywhere (alternatives included), no wildcard
  in apiGroups, resources, verbs or resourceNames, no nonResourceURLs;
- every RoleBinding binds a Role of its own namespace to an existing ServiceAccount of
  the remedy namespace; no Role is left unbound;
- each function's effective permissions equal the table below exactly (a verb added or
  missing fails), in the namespace where the resource lives (CodeRuns in
  agent-platform, Workflows in argo, ConfigMaps in remedy);
- functions without Kubernetes access have no binding and no mounted token; every
  function runs as its own ServiceAccount;
- CodeRuns are addressed by the group and plural of the real CRD (the original system's
  RBAC used another group, through a ClusterRole).
"""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.knative.support import (
    FUNCTIONS,
    KNATIVE,
    NAMESPACE,
    applied,
    ksvc,
    load_file,
    of_kind,
    yaml_files,
)

RBAC = "rbac.authorization.k8s.io/v1"
CODERUNS = ("agent-platform", "agents.platform", "coderuns")
WORKFLOWS = ("argo", "argoproj.io", "workflows")
CONFIGMAPS = (NAMESPACE, "", "configmaps")

Permissions = dict[tuple[str, str, str], frozenset[str]]


def verbs(*names: str) -> frozenset[str]:
    return frozenset(names)


EXPECTED: dict[str, Permissions] = {
    "webhook-gateway": {},
    "push-intake": {},
    "agent-cancel": {
        CODERUNS: verbs("get", "list", "watch", "patch", "update", "delete"),
        CONFIGMAPS: verbs("get", "create", "update"),
    },
    "label-update": {CONFIGMAPS: verbs("get", "create", "update")},
    "workflow-resume": {
        WORKFLOWS: verbs("get", "list", "watch", "update", "patch"),
        CONFIGMAPS: verbs("get", "create", "update"),
    },
    "feedback-intake": {
        CODERUNS: verbs("get", "list", "create", "patch", "update", "delete"),
        CONFIGMAPS: verbs("get", "create", "update"),
    },
    "control-api": {
        CODERUNS: verbs("get", "list", "watch", "patch", "update"),
        CONFIGMAPS: verbs("get", "list"),
    },
    "reconciler": {
        CODERUNS: verbs("get", "list", "watch", "patch", "update", "delete"),
        WORKFLOWS: verbs("get", "list", "update", "patch"),
        CONFIGMAPS: verbs("get", "list", "create", "update"),
    },
}


def account(function: str) -> str:
    return f"remedy-{function}"


def permissions_of(service_account: str) -> Permissions:
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


def test_no_cluster_wide_grant_anywhere() -> None:
    for path in yaml_files():
        for document in load_file(path):
            assert document.get("kind") not in ("ClusterRole", "ClusterRoleBinding"), path


def test_no_wildcards_and_no_non_resource_urls() -> None:
    for role in of_kind("Role", RBAC):
        for rule in role["rules"]:
            assert "nonResourceURLs" not in rule
            for field in ("apiGroups", "resources", "verbs", "resourceNames"):
                assert "*" not in rule.get(field, []), (role["metadata"], field)
                assert all("*" not in value for value in rule.get(field, [])), role["metadata"]


def test_bindings_are_namespaced_and_point_at_real_roles_and_accounts() -> None:
    roles = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in of_kind("Role", RBAC)}
    accounts = {
        (sa["metadata"]["namespace"], sa["metadata"]["name"])
        for sa in of_kind("ServiceAccount", "v1")
    }
    bound = set()
    for binding in of_kind("RoleBinding", RBAC):
        namespace = binding["metadata"]["namespace"]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": binding["roleRef"]["name"],
        }
        assert (namespace, binding["roleRef"]["name"]) in roles
        bound.add((namespace, binding["roleRef"]["name"]))
        for subject in binding["subjects"]:
            assert subject["kind"] == "ServiceAccount"
            assert (subject["namespace"], subject["name"]) in accounts
            assert subject["namespace"] == NAMESPACE
    assert bound == roles, "every Role is bound"


def test_each_function_has_exactly_its_permissions() -> None:
    assert set(EXPECTED) == set(FUNCTIONS)
    for function, expected in EXPECTED.items():
        assert permissions_of(account(function)) == expected, function


def test_resources_are_reached_only_in_their_own_namespace() -> None:
    home = {"coderuns": "agent-platform", "workflows": "argo", "configmaps": NAMESPACE}
    for role in of_kind("Role", RBAC):
        for rule in role["rules"]:
            for resource in rule["resources"]:
                assert home[resource] == role["metadata"]["namespace"], role["metadata"]


def test_every_function_runs_as_its_own_account() -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in of_kind("ServiceAccount", "v1")}
    for function in FUNCTIONS:
        spec = ksvc(function)["spec"]["template"]["spec"]
        assert spec["serviceAccountName"] == account(function)
        service_account = accounts[account(function)]
        no_access = not EXPECTED[function]
        assert (service_account.get("automountServiceAccountToken") is False) == no_access, function


def test_coderun_group_matches_the_real_crd_unlike_the_original_rbac(reference_dir: Path) -> None:
    crd = yaml.safe_load((reference_dir / "cto-coderun-crd.yaml").read_text())
    assert (crd["spec"]["group"], crd["spec"]["names"]["plural"]) == CODERUNS[1:]
    original = [
        d
        for d in yaml.safe_load_all(
            (reference_dir / "cto-agent-cancellation-rbac.yaml").read_text()
        )
        if d
    ]
    original_groups = {
        g
        for d in original
        for r in d.get("rules", [])
        for g in r["apiGroups"]
        if "coderuns" in r["resources"]
    }
    assert crd["spec"]["group"] not in original_groups  # the mistake remedy must not repeat
    assert any(d["kind"] == "ClusterRole" for d in original)
    assert {d["apiVersion"] for _, d in applied() if d["kind"] == "Role"} == {RBAC}
    assert KNATIVE.is_dir()
