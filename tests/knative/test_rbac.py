"""Least privilege: each function gets exactly the namespaced access it uses, no more.

Covers:
- no ClusterRole or ClusterRoleBinding anywhere (alternatives included), no wildcard
  in apiGroups, resources, verbs or resourceNames, no nonResourceURLs;
- every RoleBinding binds a Role of its own namespace to an existing ServiceAccount of
  the remedy namespace; no Role is left unbound;
- each function's effective permissions equal the table below exactly (a verb added or
  missing fails), in the namespace where the resource lives (CodeRuns in
  agent-platform, Workflows in argo, ConfigMaps in remedy); the table is derived from
  the Kubernetes calls each function's code paths make (see the comments on it and
  knative/README.md), and no Role grants `watch`, which nothing does;
- exactly the functions whose wiring builds a Kubernetes client have permissions;
  the others have no binding and no mounted token; every function runs as its own
  ServiceAccount;
- Kubernetes Events (the audit trail): each function may ``create`` events.k8s.io
  events — nothing else on them — in exactly the namespaces of the objects
  ``remedy.domain.audit``'s catalogue says it records Events on (CodeRuns in
  agent-platform, workflows in argo, state ConfigMaps in remedy); exactly the functions
  whose wiring gives their steps an audit trail are writers in the catalogue (the
  integration suites check each Event written against the catalogue's writers and
  kinds: tests/support/audit.py);
- CodeRuns are addressed by the group and plural of the real CRD (the original system's
  RBAC used another group, through a ClusterRole).
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from remedy.domain import audit
from tests.knative import source_scan
from tests.knative.support import (
    FUNCTIONS,
    KNATIVE,
    NAMESPACE,
    RBAC,
    Permissions,
    account,
    applied,
    ksvc,
    load_file,
    of_kind,
    permissions_of,
    yaml_files,
)

CODERUNS = ("agent-platform", "agents.platform", "coderuns")
WORKFLOWS = ("argo", "argoproj.io", "workflows")
CONFIGMAPS = (NAMESPACE, "", "configmaps")
HOMES = {"CodeRun": CODERUNS[0], "Workflow": WORKFLOWS[0], "ConfigMap": CONFIGMAPS[0]}
"""Where each kind of object remedy records Events on lives (and so its Events)."""


def verbs(*names: str) -> frozenset[str]:
    return frozenset(names)


# Client call -> verb: list_* (label selector) = list, read_*/get_* = get, create_* =
# create, replace_* = update, patch_* = patch, delete_* = delete (adapters/kube/api.py,
# adapters/kube/runs.py).
#
# Task state through handlers/common/tasks.py (KubeRemediationStates): load = get; save =
# create (first state) or update (replace with resourceVersion); task_ids = list.
TASK_STATE = verbs("get", "create", "update")
# handlers/common/cancelling.py (KubeAgentRuns): list_for_task = list; get/gone = get (re-read
# after a 409, confirm a deletion); annotate = patch; delete = delete.
CANCELLER = verbs("get", "list", "patch", "delete")
# handlers/common/resumes.py (KubeWorkflows): find = list; replace = update.
RESUMER = verbs("list", "update")


def events_of(function: str) -> Permissions:
    """``create`` on events.k8s.io events in the namespace of each kind of object the
    audit catalogue says ``function`` records Events on (adapters/kube/events.py only
    ever calls create_namespaced_event)."""
    namespaces = {
        HOMES[kind]
        for entry in audit.CATALOGUE
        if function in entry.writers
        for kind in entry.regarding
    }
    return {(namespace, "events.k8s.io", "events"): verbs("create") for namespace in namespaces}


_ACCESS: dict[str, Permissions] = {
    "webhook-gateway": {},
    "push-intake": {},
    "agent-cancel": {CODERUNS: CANCELLER, CONFIGMAPS: TASK_STATE},
    "label-update": {CONFIGMAPS: TASK_STATE},
    "workflow-resume": {WORKFLOWS: RESUMER, CONFIGMAPS: TASK_STATE},
    # + create: the Rex remediation run (adapters/kube/runs.py)
    "feedback-intake": {CODERUNS: CANCELLER | {"create"}, CONFIGMAPS: TASK_STATE},
    "control-api": {
        # handlers/control/ack.py: one named run read, annotated, deleted; never listed
        CODERUNS: verbs("get", "patch", "delete"),
        # handlers/control/api.py: a task's stage (find) and the task list (by_task); read only
        WORKFLOWS: verbs("list"),
        # list = load_all (the task list) and task_ids (a gone run's recorded
        # cancellation); no create: it only records into an existing state
        CONFIGMAPS: verbs("get", "list", "update"),
    },
    "reconciler": {
        # handlers/reconciler/cancellations.py: read each cancelled run, force-delete it
        CODERUNS: verbs("get", "delete"),
        WORKFLOWS: RESUMER,  # kept resumes, through the same appliers
        # list = task_ids every tick; create = a dead letter for a task without state
        CONFIGMAPS: TASK_STATE | {"list"},
    },
}
EXPECTED: dict[str, Permissions] = {
    function: {**access, **events_of(function)} for function, access in _ACCESS.items()
}


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


def test_kubernetes_access_exactly_where_the_code_builds_a_client() -> None:
    for function in FUNCTIONS:
        assert bool(EXPECTED[function]) == source_scan.needs(function).kubernetes, function


def test_events_are_created_exactly_by_the_functions_that_record_them() -> None:
    writers = {writer for entry in audit.CATALOGUE for writer in entry.writers}
    assert writers <= set(FUNCTIONS)
    assert set(HOMES) == {kind for entry in audit.CATALOGUE for kind in entry.regarding}
    for function in FUNCTIONS:
        records = source_scan.needs(function).events
        assert records == (function in writers), function
        granted = {
            key: value
            for key, value in permissions_of(account(function)).items()
            if key[2] == "events"
        }
        assert granted == events_of(function), function
        assert all(value == {"create"} for value in granted.values()), function


def test_events_grants_follow_the_catalogue() -> None:
    # spelled out once, so a catalogue change that moves a grant shows up in review
    assert {f: sorted(ns for ns, _, _ in events_of(f)) for f in FUNCTIONS} == {
        "webhook-gateway": [],
        "push-intake": [],
        "agent-cancel": ["agent-platform"],
        "label-update": ["remedy"],
        "workflow-resume": ["argo", "remedy"],
        "feedback-intake": ["agent-platform", "remedy"],
        "control-api": ["agent-platform", "remedy"],
        "reconciler": ["agent-platform", "argo", "remedy"],
    }


def test_nothing_is_granted_watch() -> None:
    # nothing the functions run opens a Kubernetes watch (control-api's watch polls)
    for path in source_scan.deployed_files():
        text = path.read_text()
        assert "kubernetes.watch" not in text, path
        assert not re.search(r"from kubernetes(\.\w+)* import .*\bwatch\b", text), path
    for role in of_kind("Role", RBAC):
        for rule in role["rules"]:
            assert "watch" not in rule["verbs"], role["metadata"]


def test_resources_are_reached_only_in_their_own_namespace() -> None:
    home = {"coderuns": "agent-platform", "workflows": "argo", "configmaps": NAMESPACE}
    for role in of_kind("Role", RBAC):
        for rule in role["rules"]:
            for resource in rule["resources"]:
                if resource == "events":  # an Event lives beside the object it is about
                    assert role["metadata"]["namespace"] in HOMES.values(), role["metadata"]
                    assert rule["apiGroups"] == ["events.k8s.io"], role["metadata"]
                    continue
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
