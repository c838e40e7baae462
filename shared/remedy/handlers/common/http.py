"""JSON answers for the functions' HTTP edges (entrypoints, control-api, the reconciler).

webhook-gateway and control-api are called by outsiders (GitHub, agents, people), so
their cores answer a small :class:`Response` value and both edges share how a body is
read under a size limit and how an answer becomes Flask's: an oversized body is
refused without reading the rest (see :func:`to_flask`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import flask

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


def json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> flask.Response:
    return flask.Response(
        json.dumps(body), status=status, mimetype=JSON_TYPE, headers=headers or {}
    )


def read_limited(request: flask.Request, limit: int) -> bytes | None:
    """The request's body, or None when it is over ``limit`` bytes: refused by its
    declared length unread, else after reading no more than one byte past the limit."""
    if (request.content_length or 0) > limit:
        return None
    body = request.stream.read(limit + 1)
    return None if len(body) > limit else body


def to_flask(result: Response) -> flask.Response:
    if result.status == 413:
        # functions-framework reads the whole request after a non-streamed response (its
        # ``read_request`` hook); streamed with ``Connection: close``, it skips that, so a
        # sender cannot make the function buffer an arbitrarily large body
        body = json.dumps(result.body).encode()
        return flask.Response(
            iter([body]), status=413, mimetype=result.content_type,
            headers={"Connection": "close", "Content-Length": str(len(body))},
        )  # fmt: skip
    if result.stream is not None:
        return flask.Response(
            result.stream, status=result.status, mimetype=result.content_type,
            headers=result.headers,
        )  # fmt: skip
    return flask.Response(
        json.dumps(result.body), status=result.status, mimetype=result.content_type,
        headers=result.headers,
    )  # fmt: skip
