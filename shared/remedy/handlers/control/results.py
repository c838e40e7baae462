"""control-api's answers: a small response value, and errors raised from anywhere below.

Handlers raise :class:`ApiError` with the status, a stable machine code and a message
a person can act on; the router turns it into ``{"error": code, "message": text}``.
A streamed answer (a watch) carries an iterator of byte chunks instead of a body.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

JSON_TYPE = "application/json"
NDJSON_TYPE = "application/x-ndjson"


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    """When set, the answer is these chunks (JSON lines) and ``body`` is unused."""

    @property
    def content_type(self) -> str:
        return NDJSON_TYPE if self.stream is not None else JSON_TYPE


class ApiError(Exception):
    def __init__(
        self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        return Response(self.status, {"error": self.code, "message": self.message}, self.headers)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "bad_request", message)


def not_found(message: str) -> ApiError:
    return ApiError(404, "not_found", message)


def forbidden(message: str) -> ApiError:
    return ApiError(403, "forbidden", message)


def conflict(message: str) -> ApiError:
    return ApiError(409, "wrong_state", message)


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401, "unauthorized", message, headers={"WWW-Authenticate": 'Bearer realm="remedy"'}
    )
