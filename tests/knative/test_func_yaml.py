"""func.yaml follows the Knative Functions schema, and agrees with knative/.

The schema is knative/func's ``schema/func_yaml-schema.json`` (JSON Schema draft-04;
read at commit 1b599f36c2bcf093aebf4d4a7928f9cda1feac45). jsonschema is not a
dependency, so the parts func.yaml can use are transcribed below as a compact schema
(types, enums, patterns, required fields, and additionalProperties: false everywhere
the original has it) and checked by a small validator.

Covers:
- func.yaml validates against that schema; the validator itself rejects unknown keys,
  bad enums, patterns, types and missing required fields (so the check can fail);
- it builds a python function with a supported builder and picks the functions-
  framework process; its image is the one kustomization.yaml deploys; it deploys into
  the remedy namespace as an existing ServiceAccount; FUNCTION_SOURCE names a
  function that has a Knative Service.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
import yaml

from tests.knative.support import FUNCTIONS, ROOT, kustomization, of_kind

QUANTITY = {"type": "string", "pattern": r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"}
ENV = {
    "type": "object",
    "additional": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"},
        "value": {"type": "string"},
    },
}
LABEL_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
)
STRING_MAP = {"type": "object", "values": {"type": "string"}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "additional": False,
    "required": ["specVersion", "created"],
    "properties": {
        "specVersion": {"type": "string"},
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "domain": {"type": "string"},
        "runtime": {"type": "string"},
        "registry": {"type": "string"},
        "image": {"type": "string"},
        "namespace": {"type": "string"},
        "created": {"type": "date-time"},
        "invoke": {"type": "string", "enum": ["http", "cloudevent"]},
        "build": {
            "type": "object",
            "additional": False,
            "properties": {
                "git": {
                    "type": "object",
                    "additional": False,
                    "properties": {
                        k: {"type": "string"} for k in ("url", "revision", "contextDir")
                    },
                },
                "builderImages": STRING_MAP,
                "buildpacks": {"type": "array", "items": {"type": "string"}},
                "builder": {"type": "string", "enum": ["pack", "s2i"]},
                "buildEnvs": {"type": "array", "items": ENV},
                "pvcSize": {"type": "string"},
                "remoteStorageClass": {"type": "string"},
            },
        },
        "run": {
            "type": "object",
            "additional": False,
            "properties": {
                "volumes": {"type": "array"},
                "envs": {"type": "array", "items": ENV},
                "startTimeout": {"type": "integer"},
            },
        },
        "deploy": {
            "type": "object",
            "additional": False,
            "properties": {
                "namespace": {"type": "string"},
                "image": {"type": "string"},
                "annotations": STRING_MAP,
                "labels": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "additional": False,
                        "required": ["key"],
                        "properties": {
                            "key": {
                                "type": "string",
                                "pattern": LABEL_KEY,
                            },
                            "value": {
                                "type": "string",
                                "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$",
                            },
                        },
                    },
                },
                "healthEndpoints": {
                    "type": "object",
                    "additional": False,
                    "properties": {"liveness": {"type": "string"}, "readiness": {"type": "string"}},
                },
                "serviceAccountName": {"type": "string"},
                "subscriptions": {"type": "array"},
                "options": {
                    "type": "object",
                    "additional": False,
                    "properties": {
                        "scale": {
                            "type": "object",
                            "additional": False,
                            "properties": {
                                "min": {"type": "integer", "minimum": 0},
                                "max": {"type": "integer", "minimum": 0},
                                "metric": {"type": "string", "enum": ["concurrency", "rps"]},
                                "target": {"type": "number", "minimum": 0},
                                "utilization": {"type": "number", "minimum": 1, "maximum": 100},
                            },
                        },
                        "resources": {
                            "type": "object",
                            "additional": False,
                            "properties": {
                                "requests": {
                                    "type": "object",
                                    "additional": False,
                                    "properties": {"cpu": QUANTITY, "memory": QUANTITY},
                                },
                                "limits": {
                                    "type": "object",
                                    "additional": False,
                                    "properties": {
                                        "cpu": QUANTITY,
                                        "memory": QUANTITY,
                                        "concurrency": {"type": "integer", "minimum": 0},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def _type_ok(value: Any, wanted: str) -> bool:
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "date-time": lambda v: (
            isinstance(v, datetime)
            or (isinstance(v, str) and bool(datetime.fromisoformat(v.replace("Z", "+00:00"))))
        ),
    }
    return bool(checks[wanted](value))


def _scalar_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    found = []
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} not in {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        found.append(f"{path}: {value!r} does not match {schema['pattern']}")
    if "minimum" in schema and value < schema["minimum"]:
        found.append(f"{path}: {value} < {schema['minimum']}")
    if "maximum" in schema and value > schema["maximum"]:
        found.append(f"{path}: {value} > {schema['maximum']}")
    return found


def _object_errors(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    found = [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
    properties = schema.get("properties", {})
    for key, item in value.items():
        if key in properties:
            found += errors(item, properties[key], f"{path}.{key}")
        elif "values" in schema:
            found += errors(item, schema["values"], f"{path}.{key}")
        elif schema.get("additional") is False:
            found.append(f"{path}: unknown key {key!r}")
    return found


def errors(value: Any, schema: dict[str, Any], path: str = "func.yaml") -> list[str]:
    """Every way ``value`` breaks ``schema`` (an empty list when it validates)."""
    if not _type_ok(value, schema["type"]):
        return [f"{path}: expected {schema['type']}, got {value!r}"]
    found = _scalar_errors(value, schema, path)
    if schema["type"] == "object":
        found += _object_errors(value, schema, path)
    if schema["type"] == "array" and "items" in schema:
        for index, item in enumerate(value):
            found += errors(item, schema["items"], f"{path}[{index}]")
    return found


def func_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "func.yaml").read_text())
    return loaded


def test_func_yaml_matches_the_knative_func_schema() -> None:
    assert errors(func_yaml(), SCHEMA) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda f: f.update(runtimes="python"), "unknown key 'runtimes'"),
        (lambda f: f.pop("created"), "missing created"),
        (lambda f: f["build"].update(builder="docker"), "not in ['pack', 's2i']"),
        (lambda f: f.update(name="Remedy_Functions"), "does not match"),
        (lambda f: f["deploy"]["options"]["scale"].update(min=-1), "< 0"),
        (
            lambda f: f["deploy"]["options"]["resources"]["limits"].update(memory="lots"),
            "does not match",
        ),
        (lambda f: f["run"]["envs"].append({"name": "9LIVES", "value": "x"}), "does not match"),
        (lambda f: f["deploy"].update(labels={"a": "b"}), "expected array"),
    ],
)
def test_the_schema_check_can_fail(change: Any, complaint: str) -> None:
    broken = func_yaml()
    change(broken)
    assert any(complaint in error for error in errors(broken, SCHEMA)), errors(broken, SCHEMA)


def test_func_yaml_agrees_with_the_deployment() -> None:
    spec = func_yaml()
    assert spec["runtime"] == "python"
    image = kustomization()["images"][0]
    assert spec["image"] == f"{image['newName']}:{image['newTag']}"
    assert spec["deploy"]["namespace"] == "remedy"
    accounts = {sa["metadata"]["name"] for sa in of_kind("ServiceAccount", "v1")}
    assert spec["deploy"]["serviceAccountName"] in accounts
    build_envs = {item["name"]: item["value"] for item in spec["build"]["buildEnvs"]}
    assert build_envs["BP_PROCFILE_DEFAULT_PROCESS"] == "functions-framework"
    run_envs = {item.get("name"): item["value"] for item in spec["run"]["envs"]}
    source = run_envs["FUNCTION_SOURCE"]
    assert source.removeprefix("functions/").removesuffix("/main.py") in FUNCTIONS
    assert run_envs["FUNCTION_TARGET"] == "handle"
