"""func.yaml follows the Knative Functions schema, and agrees with knative/.

The schema is knative/func's ``schema/func_yaml-schema.json`` (JSON Schema draft-04;
read at commit 1b599f36c2bcf093aebf4d4a7928f9cda1feac45), transcribed below (types,
enums, patterns, minimums, required fields, and additionalProperties: false everywhere
the original has it; descriptions dropped, $refs inlined) and checked with jsonschema.
func reads the file with Go's YAML decoder into JSON-shaped data, so timestamps stay
strings here too, and ``created`` is checked as an RFC 3339 date-time.

Covers:
- func.yaml validates against that schema; the transcription is itself a valid draft-04
  schema, and it rejects unknown keys, bad enums, patterns, types, minimums, a bad
  date-time and missing required fields (so the check can fail);
- it builds a python function with a supported builder and picks the functions-
  framework process; its image is the one kustomization.yaml deploys; it deploys into
  the remedy namespace as an existing ServiceAccount; FUNCTION_SOURCE names a
  function that has a Knative Service.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import jsonschema
import pytest
import yaml

from tests.knative.support import FUNCTIONS, ROOT, kustomization, of_kind

QUANTITY = {"type": "string", "pattern": r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"}
STRING_MAP = {"type": "object", "patternProperties": {".*": {"type": "string"}}}
ENV = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[-._a-zA-Z][-._a-zA-Z0-9]*$"},
        "value": {"type": "string"},
    },
}
LABEL = {
    "type": "object",
    "additionalProperties": False,
    "required": ["key"],
    "properties": {
        "key": {
            "type": "string",
            "pattern": (
                r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?"
                r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$"
            ),
        },
        "value": {"type": "string", "pattern": r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"},
    },
}
VOLUME = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "secret": {"type": "string"},
        "configMap": {"type": "string"},
        "persistentVolumeClaim": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"claimName": {"type": "string"}, "readOnly": {"type": "boolean"}},
        },
        "emptyDir": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"medium": {"type": "string"}, "sizeLimit": {"type": "string"}},
        },
        "path": {"type": "string"},
    },
    "oneOf": [
        {"required": [one]} for one in ("secret", "configMap", "persistentVolumeClaim", "emptyDir")
    ],
}
SUBSCRIPTION = {
    "type": "object",
    "additionalProperties": False,
    "required": ["source"],
    "properties": {"source": {"type": "string"}, "filters": STRING_MAP},
}
SCALE = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "min": {"type": "integer", "minimum": 0},
        "max": {"type": "integer", "minimum": 0},
        "metric": {"type": "string", "enum": ["concurrency", "rps"]},
        "target": {"type": "number", "minimum": 0},
        "utilization": {"type": "number", "minimum": 1, "maximum": 100},
    },
}
RESOURCES = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "requests": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"cpu": QUANTITY, "memory": QUANTITY},
        },
        "limits": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "cpu": QUANTITY,
                "memory": QUANTITY,
                "concurrency": {"type": "integer", "minimum": 0},
            },
        },
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "additionalProperties": False,
    "required": ["specVersion", "created"],
    "properties": {
        "specVersion": {"type": "string"},
        "name": {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
        "domain": {"type": "string"},
        "runtime": {"type": "string"},
        "registry": {"type": "string"},
        "image": {"type": "string"},
        "namespace": {"type": "string"},
        "created": {"type": "string", "format": "date-time"},
        "invoke": {"type": "string", "enum": ["http", "cloudevent"]},
        "build": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "git": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        key: {"type": "string"} for key in ("url", "revision", "contextDir")
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
            "additionalProperties": False,
            "properties": {
                "volumes": {"type": "array", "items": VOLUME},
                "envs": {"type": "array", "items": ENV},
                "podSecurityContext": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "RunAsUser": {"type": "integer"},
                        "RunAsGroup": {"type": "integer"},
                        "RunAsNonRoot": {"type": "boolean"},
                        "FSGroup": {"type": "integer"},
                    },
                },
                "startTimeout": {"type": "integer"},
            },
        },
        "deploy": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "namespace": {"type": "string"},
                "image": {"type": "string"},
                "annotations": STRING_MAP,
                "options": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"scale": SCALE, "resources": RESOURCES},
                },
                "labels": {"type": "array", "items": LABEL},
                "healthEndpoints": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"liveness": {"type": "string"}, "readiness": {"type": "string"}},
                },
                "serviceAccountName": {"type": "string"},
                "subscriptions": {"type": "array", "items": SUBSCRIPTION},
            },
        },
    },
}

# jsonschema checks "date-time" only with an optional extra installed; check it
# ourselves so a bad timestamp can never pass silently.
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True  # "type" reports non-strings
    parsed = datetime.fromisoformat(value)
    return "T" in value.upper() and parsed.tzinfo is not None


VALIDATOR = jsonschema.Draft4Validator(SCHEMA, format_checker=FORMATS)


class _GoLikeLoader(yaml.SafeLoader):
    """PyYAML, except that timestamps stay strings, as in func's JSON-shaped view."""


_GoLikeLoader.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda loader, node: loader.construct_scalar(node),  # type: ignore[arg-type]
)


def errors(document: Any) -> list[str]:
    """Every way ``document`` breaks SCHEMA (an empty list when it validates)."""
    return sorted(
        f"func.yaml{''.join(f'.{part}' for part in error.absolute_path)}: {error.message}"
        for error in VALIDATOR.iter_errors(document)
    )


def func_yaml() -> dict[str, Any]:
    text = (ROOT / "func.yaml").read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=_GoLikeLoader)  # noqa: S506 (a SafeLoader)
    return loaded


def test_the_transcription_is_a_valid_draft_04_schema() -> None:
    jsonschema.Draft4Validator.check_schema(SCHEMA)


def test_func_yaml_matches_the_knative_func_schema() -> None:
    assert errors(func_yaml()) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda f: f.update(runtimes="python"), "('runtimes' was unexpected)"),
        (lambda f: f.pop("created"), "'created' is a required property"),
        (lambda f: f.update(created="yesterday"), "created: 'yesterday' is not a 'date-time'"),
        (lambda f: f.update(created="2025-01-01"), "is not a 'date-time'"),
        (lambda f: f["build"].update(builder="docker"), "'docker' is not one of ['pack', 's2i']"),
        (lambda f: f.update(name="Remedy_Functions"), "name: 'Remedy_Functions' does not match"),
        (lambda f: f["deploy"]["options"]["scale"].update(min=-1), "less than the minimum of 0"),
        (
            lambda f: f["deploy"]["options"]["resources"]["limits"].update(memory="lots"),
            "limits.memory: 'lots' does not match",
        ),
        (
            lambda f: f["run"]["envs"].append({"name": "9LIVES", "value": "x"}),
            "'9LIVES' does not match",
        ),
        (lambda f: f["deploy"].update(labels={"a": "b"}), "is not of type 'array'"),
        (lambda f: f["deploy"]["annotations"].update(replicas=2), "2 is not of type 'string'"),
        (
            lambda f: f["run"].update(volumes=[{"secret": "s", "configMap": "c"}]),
            "is valid under each of",
        ),
    ],
)
def test_the_schema_check_can_fail(
    change: Callable[[dict[str, Any]], object], complaint: str
) -> None:
    broken = func_yaml()
    change(broken)
    found = errors(broken)
    assert any(complaint in error for error in found), found


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
