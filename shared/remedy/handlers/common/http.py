"""JSON answers for the functions' HTTP edges (entrypoints, control-api, the reconciler)."""

from __future__ import annotations

import json
from typing import Any

import flask


def json_response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> flask.Response:
    return flask.Response(
        json.dumps(body), status=status, mimetype="application/json", headers=headers or {}
    )
