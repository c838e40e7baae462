"""A PATCH request body, parsed and applied with the apiserver's errors.

Which body format is wrong matters to clients: a body that does not parse (or a JSON
patch that is not a list of operations) is 400 BadRequest; a patch that parses but
does not apply (a failing ``test``, a missing path) or leaves something that is not an
object is 422 Invalid. Server-side apply needs a ``fieldManager`` (422 without).
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from remedy.local.emulators.kube import errors, patches


def parse(patch_type: str, body: str, field_manager: str) -> Any:
    if patch_type == "application/apply-patch+yaml":
        if not field_manager:
            raise errors.invalid(
                group="meta.k8s.io",
                kind="PatchOptions",
                name="",
                errors=[
                    errors.FieldError(
                        "fieldManager", "FieldValueRequired", "is required for apply patch"
                    )
                ],
            )
        try:
            return yaml.safe_load(body)
        except yaml.YAMLError as error:
            raise errors.bad_request(f"error decoding YAML: {error}") from None
    try:
        document = json.loads(body)
    except ValueError as error:
        raise errors.bad_request(f"error decoding patch: {error}") from None
    if patch_type == "application/json-patch+json":
        try:
            return patches.validate_json_patch(document)
        except patches.PatchError as error:
            raise errors.bad_request(str(error)) from None
    return document


def apply(patch_type: str, current: dict[str, Any], document: Any) -> dict[str, Any]:
    """The patched object; 422 when the patch does not apply or leaves no object."""
    patched = _patched(patch_type, current, document)
    if not isinstance(patched, dict):
        # What the apiserver says when the patched document no longer decodes.
        raise errors.invalid(
            group="",
            kind="",
            name="",
            errors=[
                errors.FieldError(
                    "patch",
                    "FieldValueInvalid",
                    "cannot unmarshal array into Go value of type map[string]interface {}",
                    value=json.dumps(patched),
                )
            ],
        )
    return patched


def _patched(patch_type: str, current: dict[str, Any], document: Any) -> Any:
    try:
        if patch_type == "application/json-patch+json":
            return patches.json_patch(current, document)
        if patch_type == "application/merge-patch+json":
            return patches.merge_patch(current, document)
        if patch_type == "application/strategic-merge-patch+json":
            return patches.strategic_merge_patch(current, document)
        return patches.apply_patch(current, document)
    except patches.PatchError as error:
        # The apiserver hides why a JSON patch failed behind this generic 422; the
        # cause is added so a person can act on it.
        raise errors.ApiError(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request",
            {"causes": [{"reason": "FieldValueInvalid", "message": str(error), "field": "patch"}]},
        ) from None


def applied_new(document: Any, name: str) -> Any:
    if isinstance(document, dict):
        document.setdefault("metadata", {}).setdefault("name", name)
    return document
