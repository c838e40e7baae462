"""What REST handlers receive and return, and the request-body and paging rules.

A handler is ``(backend, call) -> Reply``: it never sees WSGI. ``Call`` carries the
route arguments, the query, the raw body, the authenticated user and the base URL
the client used (so every URL in the answer points where the client already talks).
Paging follows GitHub: ``per_page`` (default 30, at most 100) and ``page``, with a
``Link`` header naming ``prev``/``next``/``last``/``first`` pages, which PyGithub's
``PaginatedList`` follows.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote, urlencode

from remedy.local.emulators.github import errors
from remedy.local.emulators.github.records import IssueRef, RepoRef, User

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

    from remedy.local.emulators.github.backend import Backend

T = TypeVar("T")
Headers = list[tuple[str, str]]


@dataclass(slots=True)
class Call:
    method: str
    path: str
    args: dict[str, Any]
    query: dict[str, str]
    body: bytes
    actor: User
    base: str

    @property
    def repo(self) -> RepoRef:
        return RepoRef(self.args["owner"], self.args["repo"])

    @property
    def issue(self) -> IssueRef:
        return IssueRef(self.args["owner"], self.args["repo"], self.args["number"])

    def json(self) -> Any:
        if not self.body.strip():
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise errors.bad_request("Problems parsing JSON") from None

    def object(self) -> dict[str, Any]:
        """The body as a JSON object (an empty body is an empty object)."""
        body = self.json()
        if body is None:
            return {}
        if not isinstance(body, dict):
            raise invalid_request("the request body must be a JSON object")
        return body


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    headers: Headers = field(default_factory=list)


Handler = Callable[["Backend", Call], Reply]

_STATUS_LINES = {code.value: f"{code.value} {code.phrase}" for code in HTTPStatus}
_JSON = ("Content-Type", "application/json; charset=utf-8")


def base_url(environ: WSGIEnvironment) -> str:
    """The base URL the client used, so answers point where it already talks."""
    scheme = environ.get("wsgi.url_scheme", "http")
    return f"{scheme}://{environ.get('HTTP_HOST') or environ.get('SERVER_NAME', 'localhost')}"


def encode(body: Any) -> bytes:
    """Compact UTF-8 JSON, as api.github.com sends it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def send(start_response: StartResponse, reply: Reply, headers: Headers) -> Iterable[bytes]:
    """Start the WSGI response for ``reply`` (a body already encoded stays as is)."""
    payload = b""
    headers = [*headers, *reply.headers]
    if reply.body is not None and reply.status not in (204, 304):
        payload = reply.body if isinstance(reply.body, bytes) else encode(reply.body)
        headers.append(_JSON)
    if reply.status not in (204, 304):
        headers.append(("Content-Length", str(len(payload))))
    start_response(_STATUS_LINES.get(reply.status, str(reply.status)), headers)
    return [payload]


def ok(body: Any, headers: Headers | None = None) -> Reply:
    return Reply(200, body, headers or [])


def created(body: dict[str, Any]) -> Reply:
    return Reply(201, body, [("Location", str(body["url"]))])


def no_content() -> Reply:
    return Reply(204)


def invalid_request(detail: str) -> errors.ApiError:
    """422 for a body of the wrong form, worded as GitHub's schema check words it."""
    return errors.ApiError(422, f"Invalid request.\n\n{detail}")


def text(body: dict[str, Any], key: str, *, required: bool = False) -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise invalid_request(f'"{key}" wasn\'t supplied.')
        return None
    if not isinstance(value, str):
        raise invalid_request(f"For '{key}', {json.dumps(value)} is not a string.")
    return value


def state(body: dict[str, Any]) -> Literal["open", "closed"] | None:
    """The ``state`` an issue or pull request may be edited to."""
    value = text(body, "state")
    if value is None:
        return None
    if value == "open":
        return "open"
    if value == "closed":
        return "closed"
    raise invalid_request(f"For 'state', {json.dumps(value)} is not one of open, closed.")


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise invalid_request(f"For '{key}', {json.dumps(value)} is not a boolean.")
    return value


def label_names(payload: Any) -> list[str]:
    """Every form "add/set labels" accepts: names or ``{"name"}`` objects, bare or
    under ``"labels"``, or one bare name (docs.github.com/rest/issues/labels)."""
    if isinstance(payload, dict):
        payload = payload.get("labels", [])
    if isinstance(payload, str):
        payload = [payload]
    if not isinstance(payload, list):
        raise invalid_request('labels must be an array of names or of {"name": ...} objects')
    names: list[str] = []
    for item in payload:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise invalid_request(f"For 'labels', {json.dumps(item)} is not a label name.")
        names.append(name)
    return names


def _int(query: dict[str, str], key: str, default: int) -> int:
    try:
        return int(query.get(key, default))
    except ValueError:
        return default


def paginate(call: Call, items: Sequence[T]) -> tuple[Sequence[T], Headers]:
    """One page of ``items`` and the ``Link`` header for the others."""
    per_page = min(max(_int(call.query, "per_page", 30), 1), 100)
    page = max(_int(call.query, "page", 1), 1)
    last = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]
    if last == 1:
        return chunk, []

    def link(number: int, rel: str) -> str:
        query = {**call.query, "page": str(number)}
        return f'<{call.base}{quote(call.path)}?{urlencode(query)}>; rel="{rel}"'

    links = []
    if page > 1:
        links.append(link(min(page - 1, last), "prev"))
    if page < last:
        links += [link(page + 1, "next"), link(last, "last")]
    if page > 1:
        links.append(link(1, "first"))
    return chunk, [("Link", ", ".join(links))]


def paged(call: Call, items: Sequence[T], render: Callable[[T], Any]) -> Reply:
    """200 with one page of ``items``, each rendered, and the ``Link`` header for the rest."""
    page, links = paginate(call, items)
    return ok([render(each) for each in page], links)
