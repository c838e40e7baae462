"""Token-protected admin endpoints under ``/_emulator/``, where GitHub has no API.

Seeding otherwise goes through the real REST API; these cover what no GitHub client
can do: move a pull request's head (a push), add users with their tokens, read and
clear the per-endpoint request counts and the timeline of effects, configure rate
limits, arm faults, and reset. ``Authorization: token <admin token>`` is required:
401 without it, 403 with any other token (a user's token is not an admin's).

=======  ============================================================  ================
method   path                                                          body
=======  ============================================================  ================
GET      /_emulator/stats  (DELETE clears)                             -
GET      /_emulator/timeline  (DELETE clears)                          -
POST     /_emulator/reset                                              -
POST     /_emulator/users                                              login, token?, type?
PUT      /_emulator/repos/{owner}/{repo}/pulls/{number}/head           sha
GET      /_emulator/ratelimit                                          -
PUT      /_emulator/ratelimit/primary                                  limit, window_seconds,
                                                                       status, login+remaining
PUT      /_emulator/ratelimit/secondary  (DELETE disables)             max_requests, ...
POST     /_emulator/ratelimit/secondary/trip                           count, status, retry_after
POST     /_emulator/faults  (DELETE clears)                            status, method, ...
=======  ============================================================  ================
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from remedy.local.emulators.github import errors, pull_shape, wire
from remedy.local.emulators.github.backend import Backend
from remedy.local.emulators.github.faults import Fault
from remedy.local.emulators.github.records import IssueRef
from remedy.local.emulators.github.routing import Router
from remedy.local.emulators.github.wire import Reply, no_content, ok, send

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

PREFIX = "/_emulator/"
B = TypeVar("B", bound=BaseModel)
AdminHandler = Callable[["AdminApi", "AdminCall"], Reply]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NewUser(_Body):
    login: str
    token: str | None = Field(default=None, min_length=8)
    type: Literal["User", "Organization", "Bot"] | None = None


class HeadSha(_Body):
    sha: str = Field(pattern=r"^[0-9a-f]{40}$")


class PrimaryConfig(_Body):
    limit: int | None = Field(default=None, ge=0)
    window_seconds: float | None = Field(default=None, gt=0)
    status: Literal[403, 429] | None = None
    login: str | None = None
    remaining: int | None = Field(default=None, ge=0)


class SecondaryConfig(_Body):
    max_requests: int = Field(ge=1)
    window_seconds: float = Field(default=60.0, gt=0)
    status: Literal[403, 429] = 403
    retry_after: int | None = Field(default=None, ge=0)
    writes_only: bool = False


class Trip(_Body):
    count: int = Field(default=1, ge=1)
    status: Literal[403, 429] = 403
    retry_after: int = Field(default=60, ge=0)


class FaultSpec(_Body):
    status: int = Field(ge=400, le=599)
    method: str | None = None
    endpoint: str | None = None
    count: int | None = Field(default=1, ge=1)
    message: str = "Server Error"
    retry_after: int | None = Field(default=None, ge=0)


class AdminCall:
    def __init__(self, args: dict[str, Any], body: bytes, *, base: str) -> None:
        self.args = args
        self.base = base
        self._body = body

    def parse(self, schema: type[B]) -> B:
        try:
            return schema.model_validate_json(self._body or b"{}")
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(p) for p in each['loc']) or 'body'}: {each['msg']}"
                for each in error.errors()
            ]
            raise errors.ApiError(422, "Invalid admin request", errors=problems) from None


class AdminApi:
    def __init__(self, backend: Backend, *, token: str) -> None:
        if len(token) < 8:
            raise ValueError("the admin token must be at least 8 characters long")
        self.backend = backend
        self._token = token.encode()
        self.router: Router[AdminHandler] = Router(_ROUTES)

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse, *, path: str
    ) -> Iterable[bytes]:
        try:
            reply = self._serve(environ, path)
        except errors.ApiError as error:
            reply = Reply(error.status, error.body())
        return send(start_response, reply, [])

    def _serve(self, environ: WSGIEnvironment, path: str) -> Reply:
        self._authorize(environ.get("HTTP_AUTHORIZATION", ""))
        route = self.router.match(environ["REQUEST_METHOD"], path)
        if route is None:
            raise errors.not_found()
        _template, handler, args = route
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        return handler(self, AdminCall(args, body, base=wire.base_url(environ)))

    def _authorize(self, header: str) -> None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not value.strip():
            raise errors.ApiError(401, "Requires authentication: the emulator's admin token")
        if not hmac.compare_digest(value.strip().encode(), self._token):
            raise errors.ApiError(403, "Forbidden: this endpoint needs the admin token")


def _stats(api: AdminApi, call: AdminCall) -> Reply:
    return ok(api.backend.stats.snapshot())


def _clear_stats(api: AdminApi, call: AdminCall) -> Reply:
    api.backend.stats.reset()
    return no_content()


def _timeline(api: AdminApi, call: AdminCall) -> Reply:
    return ok({"effects": api.backend.model.timeline})


def _clear_timeline(api: AdminApi, call: AdminCall) -> Reply:
    api.backend.model.clear_timeline()
    return no_content()


def _reset(api: AdminApi, call: AdminCall) -> Reply:
    api.backend.reset()
    return no_content()


def _add_user(api: AdminApi, call: AdminCall) -> Reply:
    spec = call.parse(NewUser)
    user = api.backend.model.add_user(spec.login, type=spec.type)
    if spec.token is not None:
        api.backend.model.add_token(spec.token, user.login)
    return Reply(201, {"login": user.login, "id": user.id, "type": user.type})


def _set_head(api: AdminApi, call: AdminCall) -> Reply:
    spec = call.parse(HeadSha)
    args = call.args
    model = api.backend.model
    with model.lock:
        pull = model.pulls.set_head(IssueRef(args["owner"], args["repo"], args["number"]), spec.sha)
        return ok(pull_shape.pull(pull, call.base))


def _limits(api: AdminApi, call: AdminCall) -> Reply:
    primary, secondary = api.backend.primary, api.backend.secondary
    return ok(
        {
            "primary": {
                "limit": primary.limit,
                "window_seconds": primary.window_seconds,
                "status": primary.status,
            },
            "secondary": {
                "max_requests": secondary.max_requests,
                "window_seconds": secondary.window_seconds,
                "status": secondary.status,
                "retry_after": secondary.retry_after,
                "writes_only": secondary.writes_only,
            },
        }
    )


def _configure_primary(api: AdminApi, call: AdminCall) -> Reply:
    spec = call.parse(PrimaryConfig)
    if (spec.login is None) != (spec.remaining is None):
        raise errors.ApiError(422, "Invalid admin request: give 'login' and 'remaining' together")
    primary = api.backend.primary
    primary.configure(limit=spec.limit, window_seconds=spec.window_seconds, status=spec.status)
    if spec.login is not None and spec.remaining is not None:
        primary.set_remaining(api.backend.model.user(spec.login).login, spec.remaining)
    return _limits(api, call)


def _configure_secondary(api: AdminApi, call: AdminCall) -> Reply:
    spec = call.parse(SecondaryConfig)
    api.backend.secondary.configure(**spec.model_dump())
    return _limits(api, call)


def _disable_secondary(api: AdminApi, call: AdminCall) -> Reply:
    api.backend.secondary.disable()
    return no_content()


def _trip(api: AdminApi, call: AdminCall) -> Reply:
    spec = call.parse(Trip)
    api.backend.secondary.trip(count=spec.count, status=spec.status, retry_after=spec.retry_after)
    return no_content()


def _add_fault(api: AdminApi, call: AdminCall) -> Reply:
    fault = Fault(**call.parse(FaultSpec).model_dump())
    api.backend.faults.add(fault)
    return Reply(201, {"armed": True})


def _clear_faults(api: AdminApi, call: AdminCall) -> Reply:
    api.backend.faults.clear()
    return no_content()


_ROUTES: list[tuple[str, str, AdminHandler]] = [
    ("GET", "/_emulator/stats", _stats),
    ("DELETE", "/_emulator/stats", _clear_stats),
    ("GET", "/_emulator/timeline", _timeline),
    ("DELETE", "/_emulator/timeline", _clear_timeline),
    ("POST", "/_emulator/reset", _reset),
    ("POST", "/_emulator/users", _add_user),
    ("PUT", "/_emulator/repos/{owner}/{repo}/pulls/{number}/head", _set_head),
    ("GET", "/_emulator/ratelimit", _limits),
    ("PUT", "/_emulator/ratelimit/primary", _configure_primary),
    ("PUT", "/_emulator/ratelimit/secondary", _configure_secondary),
    ("DELETE", "/_emulator/ratelimit/secondary", _disable_secondary),
    ("POST", "/_emulator/ratelimit/secondary/trip", _trip),
    ("POST", "/_emulator/faults", _add_fault),
    ("DELETE", "/_emulator/faults", _clear_faults),
]
