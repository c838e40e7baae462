"""CustomResourceDefinitions: validation, defaulting, and the types they serve.

Applying a CRD makes its group/versions appear in discovery and its plural, short
names, scope, status subresource, printer columns and schema govern the custom
resources, as with the real apiextensions-apiserver. The real server establishes a
CRD asynchronously; the emulator does it within the request and writes the same
``status`` (``acceptedNames``, ``NamesAccepted`` and ``Established`` conditions), so
``kubectl wait --for condition=established`` works as in CI scripts.

The CRDs remedy itself needs ship in ``crds/`` (the CodeRun CRD byte-identical to
the original system's, and Argo's Workflow CRD); :func:`install_crds` applies them.
"""

from __future__ import annotations

from importlib import resources as package_files
from typing import Any

import yaml

from remedy.local.emulators.kube import errors
from remedy.local.emulators.kube.errors import FieldError
from remedy.local.emulators.kube.objects import now
from remedy.local.emulators.kube.resources import PrinterColumn, ResourceType

CRD_FILES = ("coderun.yaml", "workflow.yaml")


def bundled_crds() -> list[dict[str, Any]]:
    """The CRDs shipped with remedy (CodeRun, Workflow), parsed."""
    folder = package_files.files("remedy.local.emulators.kube") / "crds"
    manifests: list[dict[str, Any]] = []
    for name in CRD_FILES:
        text = (folder / name).read_text(encoding="utf-8")
        manifests.extend(doc for doc in yaml.safe_load_all(text) if doc)
    return manifests


def install_crds(target: Any, manifests: list[dict[str, Any]] | None = None) -> list[str]:
    """Install CRDs (remedy's own by default); returns their names.

    ``target`` is a :class:`Cluster`, anything with a ``.cluster`` (a
    ``KubeEmulator``), or a kubernetes ``ApiClient`` — then the CRDs are created over
    the API, which works against a real cluster too (an existing CRD is replaced).
    """
    manifests = manifests if manifests is not None else bundled_crds()
    cluster = getattr(target, "cluster", target)
    if hasattr(cluster, "apply"):
        return [cluster.apply(manifest)["metadata"]["name"] for manifest in manifests]
    return [_install_over_api(target, manifest) for manifest in manifests]


def _install_over_api(api_client: Any, manifest: dict[str, Any]) -> str:
    from kubernetes import client  # noqa: PLC0415 - only this path needs the client

    extensions: Any = client.ApiextensionsV1Api(api_client)
    name: str = manifest["metadata"]["name"]
    try:
        extensions.create_custom_resource_definition(manifest)
    except client.ApiException as error:
        if error.status != 409:
            raise
        current = extensions.read_custom_resource_definition(name)
        replacement = dict(manifest, metadata=dict(manifest["metadata"]))
        replacement["metadata"]["resourceVersion"] = current.metadata.resource_version
        extensions.replace_custom_resource_definition(name, replacement)
    return name


def default_crd(body: dict[str, Any]) -> None:
    spec = body.setdefault("spec", {})
    names = spec.setdefault("names", {})
    if isinstance(names, dict) and names.get("kind"):
        names.setdefault("listKind", f"{names['kind']}List")
        names.setdefault("singular", str(names["kind"]).lower())
    spec.setdefault("conversion", {"strategy": "None"})


def validate_crd(body: dict[str, Any]) -> list[FieldError]:
    spec = body.get("spec") or {}
    names = spec.get("names") or {}
    group = spec.get("group") or ""
    found: list[FieldError] = []
    if not group:
        found.append(FieldError("spec.group", "FieldValueRequired", ""))
    elif "." not in group:
        found.append(
            FieldError(
                "spec.group",
                "FieldValueInvalid",
                "should be a domain with at least one dot",
                value=group,
            )
        )
    for field in ("plural", "kind"):
        if not names.get(field):
            found.append(FieldError(f"spec.names.{field}", "FieldValueRequired", ""))
    name = body["metadata"].get("name", "")
    if names.get("plural") and group and name != f"{names['plural']}.{group}":
        found.append(
            FieldError(
                "metadata.name",
                "FieldValueInvalid",
                'must be spec.names.plural+"."+spec.group',
                value=name,
            )
        )
    if spec.get("scope") not in ("Namespaced", "Cluster"):
        found.append(
            FieldError(
                "spec.scope",
                "FieldValueNotSupported",
                'supported values: "Cluster", "Namespaced"',
                value=spec.get("scope", ""),
            )
        )
    versions = spec.get("versions") or []
    if not versions:
        found.append(
            FieldError(
                "spec.versions",
                "FieldValueRequired",
                "must have exactly one version marked as storage version",
            )
        )
    elif sum(1 for v in versions if v.get("storage")) != 1:
        found.append(
            FieldError(
                "spec.versions",
                "FieldValueInvalid",
                "must have exactly one version marked as storage version",
                value=[v.get("name") for v in versions],
            )
        )
    return found


def established_status(body: dict[str, Any]) -> dict[str, Any]:
    spec = body["spec"]
    stamp = now()
    storage = [v["name"] for v in spec.get("versions") or [] if v.get("storage")]
    return {
        "acceptedNames": spec["names"],
        "conditions": [
            {
                "type": "NamesAccepted",
                "status": "True",
                "lastTransitionTime": stamp,
                "reason": "NoConflicts",
                "message": "no conflicts found",
            },
            {
                "type": "Established",
                "status": "True",
                "lastTransitionTime": stamp,
                "reason": "InitialNamesAccepted",
                "message": "the initial names have been accepted",
            },
        ],
        "storedVersions": storage,
    }


def served_types(body: dict[str, Any]) -> list[ResourceType]:
    """One :class:`ResourceType` per served version of the CRD."""
    spec = body["spec"]
    names = spec["names"]
    served = []
    for version in spec.get("versions") or []:
        if not version.get("served", True):
            continue
        columns = tuple(
            PrinterColumn(
                name=column["name"],
                type=column.get("type", "string"),
                json_path=column["jsonPath"],
                description=column.get("description", ""),
                priority=int(column.get("priority", 0)),
                format=column.get("format", ""),
            )
            for column in version.get("additionalPrinterColumns") or []
        ) or (PrinterColumn("Age", "date", ".metadata.creationTimestamp"),)
        served.append(
            ResourceType(
                group=spec["group"],
                version=version["name"],
                plural=names["plural"],
                singular=names.get("singular") or names["kind"].lower(),
                kind=names["kind"],
                namespaced=spec["scope"] == "Namespaced",
                short_names=tuple(names.get("shortNames") or ()),
                categories=tuple(names.get("categories") or ()),
                has_status="status" in (version.get("subresources") or {}),
                builtin=False,
                tracks_generation=True,
                unconditional_update=False,
                printer_columns=columns,
                schema=(version.get("schema") or {}).get("openAPIV3Schema"),
                storage_version=bool(version.get("storage")),
            )
        )
    return served


def crd_invalid(name: str, found: list[FieldError]) -> errors.ApiError:
    return errors.invalid(
        group="apiextensions.k8s.io", kind="CustomResourceDefinition", name=name, errors=found
    )
