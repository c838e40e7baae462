"""Kubernetes API errors as the real server writes them: ``Status`` objects.

Clients decide what to do from ``code`` and ``reason`` (the kubernetes client raises
``ApiException`` with the body, kubectl prints ``Error from server (Reason): message``),
so each constructor here reproduces the apiserver's wording for that case
(k8s.io/apimachinery/pkg/api/errors). Anything raised as :class:`ApiError` inside the
emulator reaches the client as such a Status, with the matching HTTP code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldError:
    """One entry of a 422 Invalid: which field, what kind of problem, why."""

    field: str
    kind: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueForbidden
    detail: str
    value: Any = None
    has_value: bool = True

    _LABELS: ClassVar[dict[str, str]] = {
        "FieldValueInvalid": "Invalid value",
        "FieldValueRequired": "Required value",
        "FieldValueNotSupported": "Unsupported value",
        "FieldValueForbidden": "Forbidden",
        "FieldValueDuplicate": "Duplicate value",
        "FieldValueTypeInvalid": "Invalid value",
    }

    def body(self) -> str:
        """field.Error.ErrorBody(): the label, the offending value, then the detail."""
        label = self._LABELS.get(self.kind, self.kind)
        text = label
        if self.has_value and self.kind not in ("FieldValueRequired", "FieldValueForbidden"):
            text += f": {_go_value(self.value)}"
        if self.detail:
            text += f": {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


@dataclass(frozen=True)
class GoLiteral:
    """A value a field error prints as written: Go's ``%#v`` of a struct, a time's
    ``String()`` — what ``field.Invalid`` shows for values that are not strings or
    numbers."""

    text: str


def _go_value(value: Any) -> str:
    """How Go's field errors print a value: strings quoted, numbers bare."""
    if isinstance(value, GoLiteral):
        return value.text
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@dataclass
class ApiError(Exception):
    """An error answered to the client as a ``Status`` with ``code``."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.code} {self.reason}: {self.message}"

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            body["details"] = self.details
        body["code"] = self.code
        return body


def qualified(group: str, plural: str) -> str:
    """``schema.GroupResource.String()``: ``configmaps`` or ``coderuns.agents.platform``."""
    return f"{plural}.{group}" if group else plural


def _details(group: str, plural: str, name: str) -> dict[str, Any]:
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = plural
    return details


def not_found(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{qualified(group, plural)} "{name}" not found',
        _details(group, plural, name),
    )


def already_exists(group: str, plural: str, name: str) -> ApiError:
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(group, plural)} "{name}" already exists',
        _details(group, plural, name),
    )


CONFLICT_MODIFIED = (
    "the object has been modified; please apply your changes to the latest version and try again"
)


def conflict(group: str, plural: str, name: str, why: str = CONFLICT_MODIFIED) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {qualified(group, plural)} "{name}": {why}',
        _details(group, plural, name),
    )


def invalid(*, group: str, kind: str, name: str, errors: list[FieldError]) -> ApiError:
    """422 Invalid: ``Kind.group "name" is invalid: <one error>`` or ``[<e1>, <e2>]``."""
    qualified_kind = f"{kind}.{group}" if group else kind
    texts = [str(error) for error in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {"reason": error.kind, "message": error.body(), "field": error.field} for error in errors
    ]
    return ApiError(422, "Invalid", f'{qualified_kind} "{name}" is invalid: {joined}', details)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


def forbidden(*, group: str, plural: str, name: str, why: str) -> ApiError:
    return ApiError(
        403,
        "Forbidden",
        f'{qualified(group, plural)} "{name}" is forbidden: {why}',
        _details(group, plural, name),
    )


def method_not_allowed(verb: str, kind: str) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f'{verb} is not supported on resources of kind "{kind}"',
    )


def unsupported_media_type(accepted: list[str]) -> ApiError:
    return ApiError(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def not_acceptable(accepted: list[str]) -> ApiError:
    return ApiError(
        406,
        "NotAcceptable",
        "only the following media types are accepted: " + ", ".join(accepted),
    )


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def gone(message: str) -> ApiError:
    return ApiError(410, "Expired", message)


def server_timeout(message: str) -> ApiError:
    return ApiError(504, "Timeout", message, headers={"Retry-After": "1"})


def path_not_found() -> ApiError:
    """What the apiserver answers for a URL no API serves (empty details)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def internal_error() -> ApiError:
    """What the apiserver answers when a handler panics."""
    return ApiError(
        500, "InternalError", "an error on the server prevented the request from succeeding"
    )
