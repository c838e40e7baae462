"""Object metadata validation with the apiserver's field paths and messages.

``ValidateObjectMeta`` runs on every create and update: the name must be a DNS
subdomain (a DNS label for namespaces), ``generateName`` a valid prefix, label keys
qualified names and values valid label values, annotation keys qualified names
within 256 KiB in total. Failures become one 422 Invalid listing every problem.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from remedy.local.emulators.kube.errors import FieldError
from remedy.local.emulators.kube.names import label_key_errors, label_value_errors, subdomain_errors

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
_ANNOTATIONS_MAX_BYTES = 256 * 1024


def label_errors(value: str) -> list[str]:
    errors: list[str] = []
    if len(value) > 63:
        errors.append("must be no more than 63 bytes")
    if not _DNS1123_LABEL.match(value):
        if not subdomain_errors(value):
            errors.append("must not contain dots")
        else:
            errors.append(_LABEL_MSG)
    return errors


def name_errors(name: str, *, dns_label: bool, prefix: bool = False) -> list[str]:
    if prefix and name.endswith("-"):
        # A generateName prefix is checked as if a random suffix followed the dash.
        name = name[:-1] + "a"
    return label_errors(name) if dns_label else subdomain_errors(name)


def path_segment_errors(name: str, *, prefix: bool = False) -> list[str]:
    """``path.IsValidPathSegmentName`` (or ``…Prefix``): what any name must be."""
    if not prefix and name in (".", ".."):
        return [f"may not be '{name}'"]
    return [f"may not contain '{part}'" for part in ("/", "%") if part in name]


def validate_metadata(
    meta: Mapping[str, Any], *, dns_label: bool, path_segment: bool = False
) -> list[FieldError]:
    """``ValidateObjectMeta``; with ``path_segment`` names are only checked to be usable
    in a URL (``ValidatePathSegmentName``), as for kinds whose strategy checks none."""
    errors: list[FieldError] = []
    name = meta.get("name")
    generate_name = meta.get("generateName")
    if not name and not generate_name:
        errors.append(
            FieldError("metadata.name", "FieldValueRequired", "name or generateName is required")
        )
    if isinstance(name, str) and name:
        problems = (
            path_segment_errors(name) if path_segment else name_errors(name, dns_label=dns_label)
        )
        errors.extend(
            FieldError("metadata.name", "FieldValueInvalid", message, value=name)
            for message in problems
        )
    if isinstance(generate_name, str) and generate_name:
        problems = (
            path_segment_errors(generate_name, prefix=True)
            if path_segment
            else name_errors(generate_name, dns_label=dns_label, prefix=True)
        )
        errors.extend(
            FieldError("metadata.generateName", "FieldValueInvalid", message, value=generate_name)
            for message in problems
        )
    errors.extend(_labels(meta.get("labels")))
    errors.extend(_annotations(meta.get("annotations")))
    errors.extend(_finalizers(meta.get("finalizers")))
    return errors


def _labels(labels: Any) -> list[FieldError]:
    if labels is None:
        return []
    if not isinstance(labels, dict):
        return [FieldError("metadata.labels", "FieldValueInvalid", "must be a map", value=labels)]
    errors: list[FieldError] = []
    for key, value in labels.items():
        errors.extend(
            FieldError("metadata.labels", "FieldValueInvalid", message, value=key)
            for message in label_key_errors(key)
        )
        if not isinstance(value, str):
            errors.append(
                FieldError("metadata.labels", "FieldValueInvalid", "must be a string", value=value)
            )
            continue
        errors.extend(
            FieldError("metadata.labels", "FieldValueInvalid", message, value=value)
            for message in label_value_errors(value)
        )
    return errors


def _annotations(annotations: Any) -> list[FieldError]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [
            FieldError(
                "metadata.annotations", "FieldValueInvalid", "must be a map", value=annotations
            )
        ]
    errors: list[FieldError] = []
    for key, value in annotations.items():
        errors.extend(
            FieldError("metadata.annotations", "FieldValueInvalid", message, value=key)
            for message in label_key_errors(key.lower())
        )
        if not isinstance(value, str):
            errors.append(
                FieldError(
                    f"metadata.annotations[{key}]",
                    "FieldValueInvalid",
                    "must be a string",
                    value=value,
                )
            )
    size = len(json.dumps(annotations))
    if size > _ANNOTATIONS_MAX_BYTES:
        errors.append(
            FieldError(
                "metadata.annotations",
                "FieldValueTooLong",
                f"must have at most {_ANNOTATIONS_MAX_BYTES} bytes",
                has_value=False,
            )
        )
    return errors


def _finalizers(finalizers: Any) -> list[FieldError]:
    if finalizers is None:
        return []
    if not isinstance(finalizers, list) or not all(isinstance(f, str) for f in finalizers):
        return [
            FieldError(
                "metadata.finalizers",
                "FieldValueInvalid",
                "must be a list of strings",
                value=finalizers,
            )
        ]
    errors: list[FieldError] = []
    for index, finalizer in enumerate(finalizers):
        errors.extend(
            FieldError(
                f"metadata.finalizers[{index}]", "FieldValueInvalid", message, value=finalizer
            )
            for message in label_key_errors(finalizer)
        )
    return errors
