"""GitHub's error answers, raised by the model and rendered by the HTTP layer.

The in-memory model is a model *of GitHub*, so its refusals are GitHub's refusals:
a 404 ``{"message": "Not Found"}``, a 422 ``Validation Failed`` with an ``errors``
array, a 400 for a body that is not JSON. Raising them from the model keeps one
definition of each rule whether a test drives the model directly or over HTTP.
"""

from __future__ import annotations

from typing import Any

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An error answer: status, message and (for 422) GitHub's ``errors`` array."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[Any] | None = None,
        documentation_url: str = DOCS,
    ) -> None:
        super().__init__(f"{status} {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.documentation_url = documentation_url

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = self.documentation_url
        body["status"] = str(self.status)
        return body


def not_found(documentation_url: str = DOCS) -> ApiError:
    return ApiError(404, "Not Found", documentation_url=documentation_url)


def validation_failed(*errors: Any, documentation_url: str = DOCS) -> ApiError:
    """422 as GitHub words it for a rejected field (``resource``/``code``/``field``)."""
    return ApiError(
        422, "Validation Failed", errors=list(errors), documentation_url=documentation_url
    )


def invalid_field(resource: str, field: str, code: str = "invalid") -> dict[str, str]:
    return {"resource": resource, "code": code, "field": field}


def unprocessable(message: str, documentation_url: str = DOCS) -> ApiError:
    """422 for a rule GitHub states in prose (e.g. approving one's own pull request)."""
    return ApiError(
        422, "Unprocessable Entity", errors=[message], documentation_url=documentation_url
    )


def bad_request(message: str, documentation_url: str = DOCS) -> ApiError:
    return ApiError(400, message, documentation_url=documentation_url)
