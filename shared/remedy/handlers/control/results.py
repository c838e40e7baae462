"""control-api's answers: a small response value, and errors raised from anywhere below.

Handlers raise :class:`ApiError` with the status, a stable machine code and a message
a person can act on; the router turns it into ``{"error": code, "message": text}``.
A streamed answer (a watch) carries an iterator of byte chunks instead of a body. The
response value is webhook-gateway's too (:mod:`remedy.handlers.common.http`).
"""

from __future__ import annotations

from remedy.handlers.common.http import Response

__all__ = [
    "ApiError",
    "Response",
    "bad_request",
    "conflict",
    "forbidden",
    "not_found",
    "unauthorized",
]


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
