"""The GitHub REST API emulator as a WSGI app.

One request goes: match a route → authenticate (``Authorization: token X``,
``Bearer X`` or Basic with the token as password; else 401 as GitHub words it) →
injected fault → secondary limit → primary limit → handler (404 when no route) →
JSON with GitHub's headers → counted in the per-endpoint stats, whatever the answer.
GET answers carry a strong ``ETag`` of their body; a matching ``If-None-Match`` gets
304 with no body, and the 304 is refunded to the primary budget (GitHub: conditional
requests answered 304 do not count). Requests under ``/_emulator/`` go to the admin
endpoints instead (see :mod:`.admin`).

Per-request work is kept small (one route match, one lock-held model call, one JSON
encode) because remedy's own latency is measured through this server.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from werkzeug.wsgi import get_input_stream

from remedy.local.emulators.github import (
    admin,
    errors,
    ratelimit,
    rest_issues,
    rest_pulls,
    rest_repos,
)
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.records import User
from remedy.local.emulators.github.routing import Router
from remedy.local.emulators.github.wire import Call, Handler, Headers, Reply, base_url, encode, send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

FREE_ENDPOINTS = frozenset({"GET /rate_limit"})
_WITH_BODY = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_BASE_HEADERS: Headers = [
    ("X-GitHub-Media-Type", "github.v3; format=json"),
    ("X-GitHub-Api-Version-Selected", "2022-11-28"),
]


def request_path(environ: WSGIEnvironment) -> str:
    """PATH_INFO as text: WSGI hands it over as latin-1-decoded bytes."""
    path: str = environ.get("PATH_INFO", "") or "/"
    return path.encode("latin-1").decode("utf-8", "replace")


def bearer(environ: WSGIEnvironment) -> str | None:
    """The token in ``Authorization`` (token / Bearer / Basic user:token), if any."""
    header: str = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("token", "bearer") and value:
        return value
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, _, password = decoded.partition(":")
        return password or user or None
    return None


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _matches(if_none_match: str, etag: str) -> bool:
    # RFC 9110: If-None-Match uses the weak comparison, so W/"x" matches "x".
    candidates = (each.strip().removeprefix("W/") for each in if_none_match.split(","))
    return any(each in ("*", etag) for each in candidates)


class GitHubApi:
    """WSGI callable serving ``backend`` as api.github.com (plus ``/_emulator/``)."""

    def __init__(self, backend: Backend, *, admin_token: str) -> None:
        self.backend = backend
        self.router: Router[Handler] = Router(
            [*rest_repos.ROUTES, *rest_issues.ROUTES, *rest_pulls.ROUTES]
        )
        self.admin = admin.AdminApi(backend, token=admin_token)
        self._request_ids = itertools.count(1)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = request_path(environ)
        if path.startswith(admin.PREFIX):
            return self.admin(environ, start_response, path=path)
        method: str = environ["REQUEST_METHOD"]
        reply = self._serve(environ, method, path)
        return self._send(start_response, reply, request_id=next(self._request_ids))

    def _serve(self, environ: WSGIEnvironment, method: str, path: str) -> Reply:
        route = self.router.match(method, path)
        endpoint = f"{method} {route[0] if route else '(no route)'}"
        reply = self._answer(environ, method, path, endpoint=endpoint, route=route)
        self.backend.stats.count(endpoint, reply.status)
        return reply

    def _answer(
        self,
        environ: WSGIEnvironment,
        method: str,
        path: str,
        *,
        endpoint: str,
        route: tuple[str, Handler, dict[str, Any]] | None,
    ) -> Reply:
        backend = self.backend
        token = bearer(environ)
        actor = backend.model.user_for_token(token) if token else None
        if actor is None:
            message = "Bad credentials" if token else "Requires authentication"
            return _error(errors.ApiError(401, message))
        fault = backend.faults.take(method, route[0] if route else path)
        if fault is not None:
            return _fault_reply(fault.status, fault.message, fault.retry_after)
        refusal = backend.secondary.check(actor.login, method)
        if refusal is not None:
            reply = _fault_reply(refusal.status, refusal.message, refusal.retry_after)
            reply.body["documentation_url"] = ratelimit.SECONDARY_DOCS
            reply.headers += backend.primary.peek(actor.login).headers()
            return reply
        if endpoint in FREE_ENDPOINTS:
            quota = backend.primary.peek(actor.login)
        else:
            granted, quota = backend.primary.acquire(actor.login)
            if not granted:
                return _primary_refusal(backend.primary.status, actor, quota)
        reply = self._dispatch(environ, method, path, actor=actor, route=route)
        if reply.status == 304:
            quota = backend.primary.refund(actor.login)
        reply.headers += quota.headers()
        return reply

    def _dispatch(
        self,
        environ: WSGIEnvironment,
        method: str,
        path: str,
        *,
        actor: User,
        route: tuple[str, Handler, dict[str, Any]] | None,
    ) -> Reply:
        if route is None:
            return _error(errors.not_found())
        _template, handler, args = route
        call = Call(
            method=method,
            path=path,
            args=args,
            query=dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)),
            body=get_input_stream(environ).read() if method in _WITH_BODY else b"",
            actor=actor,
            base=base_url(environ),
        )
        try:
            reply = handler(self.backend, call)
        except errors.ApiError as error:
            return _error(error)
        except Exception:  # a bug in the emulator: answer like GitHub's 500, keep serving
            logger.exception("GitHub emulator failed on %s %s", method, path)
            return _error(errors.ApiError(500, "Server Error"))
        if method == "GET" and reply.status == 200:
            return _conditional(environ, reply)
        return reply

    def _send(
        self, start_response: StartResponse, reply: Reply, *, request_id: int
    ) -> Iterable[bytes]:
        request = ("X-GitHub-Request-Id", f"EMU:{request_id:08X}")
        return send(start_response, reply, [*_BASE_HEADERS, request])


def _conditional(environ: WSGIEnvironment, reply: Reply) -> Reply:
    payload = encode(reply.body)
    etag = etag_of(payload)
    caching = [
        ("ETag", etag),
        ("Cache-Control", "private, max-age=60, s-maxage=60"),
        ("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP"),
    ]
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match and _matches(if_none_match, etag):
        return Reply(304, None, [*caching, *reply.headers])
    return Reply(200, payload, [*caching, *reply.headers])


def _error(error: errors.ApiError) -> Reply:
    return Reply(error.status, error.body())


def _fault_reply(status: int, message: str, retry_after: int | None) -> Reply:
    reply = Reply(status, {"message": message, "documentation_url": errors.DOCS})
    if retry_after is not None:
        reply.headers.append(("Retry-After", str(retry_after)))
    return reply


def _primary_refusal(status: int, actor: User, quota: ratelimit.Quota) -> Reply:
    body = {
        "message": f"API rate limit exceeded for user ID {actor.id}.",
        "documentation_url": ratelimit.PRIMARY_DOCS,
    }
    return Reply(status, body, quota.headers())
