"""Serving the dashboard's files: ``GET /dashboard/`` and ``GET /dashboard/<file>``.

The files ship in the package (``static/``, package data), so the dashboard works
offline with no build step. Only names found in that folder are served — a path is
looked up, never joined onto a directory — and each answer carries an ``ETag`` so a
browser revalidates cheaply after an upgrade (``Cache-Control: no-cache``).
``/dashboard`` redirects to ``/dashboard/`` by a relative ``Location``, which also
holds behind a proxy that mounts control-api under a prefix.
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources

import flask

PREFIX = "/dashboard"
INDEX = "index.html"
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@functools.cache
def files() -> dict[str, tuple[bytes, str, str]]:
    """Every servable file: name → (content, content type, entity tag unquoted)."""
    found: dict[str, tuple[bytes, str, str]] = {}
    for entry in resources.files(__package__).joinpath("static").iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if entry.is_file() and suffix in _TYPES:
            content = entry.read_bytes()
            found[entry.name] = (content, _TYPES[suffix], hashlib.sha256(content).hexdigest()[:32])
    return found


def answer(request: flask.Request) -> flask.Response | None:
    """The dashboard's answer to ``request``, or None when the path is not the dashboard's."""
    path = request.path
    if path == PREFIX:
        return _plain(308, "", {"Location": "dashboard/"})
    if not path.startswith(PREFIX + "/"):
        return None
    if request.method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "the dashboard's files answer GET", "GET, HEAD")
    found = files().get(path[len(PREFIX) + 1 :] or INDEX)
    if found is None:
        return _error(404, "not_found", f"no dashboard file {path[:200]}", None)
    content, content_type, tag = found
    headers = {**SECURITY_HEADERS, "ETag": f'"{tag}"', "Cache-Control": "no-cache"}
    if request.if_none_match.contains(tag):
        return _plain(304, "", headers)
    return flask.Response(content, status=200, content_type=content_type, headers=headers)


def _plain(status: int, text: str, headers: dict[str, str]) -> flask.Response:
    return flask.Response(text, status=status, headers={**SECURITY_HEADERS, **headers})


def _error(status: int, code: str, message: str, allow: str | None) -> flask.Response:
    headers = {**SECURITY_HEADERS, **({"Allow": allow} if allow else {})}
    body = json.dumps({"error": code, "message": message})
    return flask.Response(body, status=status, mimetype="application/json", headers=headers)
