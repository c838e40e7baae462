"""Requests and responses of the emulated apiserver, on plain WSGI.

Parsing the WSGI environ directly (rather than through a framework) keeps the
per-request overhead low, which later benchmarks subtract from remedy's own
latency. This module reads the request (path, query, body, ``Accept``), picks the
output format the apiserver would (JSON, YAML, or the server-side ``Table`` that
``kubectl get`` asks for) and builds responses.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import yaml

from remedy.local.emulators.kube import errors, protobuf
from remedy.local.emulators.kube.errors import ApiError
from remedy.local.emulators.kube.store import dumps

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

JSON = "application/json"
YAML = "application/yaml"
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    410: "Gone",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
ACCEPTED_OUTPUT = [JSON, YAML, "application/vnd.kubernetes.protobuf"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    environ: WSGIEnvironment = field(repr=False)
    _body: bytes | None = field(default=None, repr=False)

    @classmethod
    def from_environ(cls, environ: WSGIEnvironment) -> Request:
        query = {
            key: values[-1]
            for key, values in parse_qs(
                environ.get("QUERY_STRING", ""), keep_blank_values=True
            ).items()
        }
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = environ["CONTENT_TYPE"]
        return cls(
            environ["REQUEST_METHOD"], environ.get("PATH_INFO") or "/", query, headers, environ
        )

    @property
    def body(self) -> bytes:
        if self._body is None:
            length = self.environ.get("CONTENT_LENGTH") or ""
            stream = self.environ["wsgi.input"]
            if length.isdigit():
                self._body = stream.read(int(length))
            elif self.environ.get("wsgi.input_terminated"):
                # A chunked request body: the server has framed it for us.
                self._body = stream.read()
            else:
                self._body = b""
        return self._body

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    def flag(self, name: str) -> bool:
        return self.query.get(name, "").lower() in ("true", "1")

    def int_param(self, name: str) -> int | None:
        value = self.query.get(name)
        if value in (None, ""):
            return None
        try:
            return int(value)
        except ValueError:
            raise errors.bad_request(
                f'invalid value for {name}: "{value}" is not an integer'
            ) from None

    def json_body(self) -> tuple[Any, str]:
        """The request object (JSON or YAML) and its text, 400 if it does not parse."""
        kind = self.content_type
        if kind == protobuf.MEDIA_TYPE:
            decoded = protobuf.decode(self.body, ACCEPTED_OUTPUT)
            return decoded, json.dumps(decoded)
        text = self.body.decode("utf-8", errors="replace")
        if kind in ("application/yaml", "application/x-yaml", "text/yaml"):
            try:
                return yaml.safe_load(text), text
            except yaml.YAMLError as error:
                raise errors.bad_request(f"error converting YAML to JSON: {error}") from None
        if kind and kind != JSON and not kind.endswith("+json"):
            raise errors.unsupported_media_type(ACCEPTED_OUTPUT)
        try:
            return json.loads(text or "null"), text
        except ValueError as error:
            raise errors.bad_request(
                f"couldn't get version/kind; json parse error: {error}"
            ) from None


@dataclass(frozen=True)
class Output:
    """How to encode the answer: media type, and whether as a server-side Table."""

    media_type: str = JSON
    table: bool = False


def negotiate(accept: str) -> Output:
    """Choose like the apiserver: the first acceptable entry of ``Accept`` wins."""
    if not accept.strip():
        return Output()
    for entry in accept.split(","):
        media, *params = (part.strip() for part in entry.split(";"))
        options = dict(param.split("=", 1) for param in params if "=" in param)
        if media in (JSON, "*/*", "application/*") and options.get("as") == "Table":
            if options.get("g") == "meta.k8s.io" and options.get("v") in ("v1", "v1beta1"):
                return Output(JSON, table=True)
            continue
        if "as" in options:
            continue
        if media in (JSON, "*/*", "application/*", "application/json-seq"):
            return Output(JSON)
        if media in (YAML, "application/x-yaml"):
            return Output(YAML)
    raise errors.not_acceptable(ACCEPTED_OUTPUT)


@dataclass
class Response:
    status: int
    body: Iterable[bytes]
    headers: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, start_response: StartResponse) -> Iterable[bytes]:
        start_response(f"{self.status} {_STATUS_TEXT.get(self.status, 'Unknown')}", self.headers)
        return self.body


def respond_text(
    status: int,
    text: str,
    *,
    output: Output | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    """A response whose body is already JSON text (objects are stored serialised)."""
    media = output.media_type if output else JSON
    if media == YAML:
        text = yaml.safe_dump(json.loads(text), sort_keys=False)
    data = text.encode("utf-8") if text.endswith("\n") else (text + "\n").encode("utf-8")
    headers = [
        ("Content-Type", media),
        ("Content-Length", str(len(data))),
        ("Cache-Control", "no-cache, private"),
        *(extra or []),
    ]
    return Response(status, [data], headers)


def respond(
    status: int,
    value: Any,
    *,
    output: Output | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    return respond_text(status, dumps(value), output=output, extra=extra)


def respond_error(error: ApiError) -> Response:
    return respond(error.code, error.status(), extra=list(error.headers.items()))


def warning_headers(warnings: Iterable[str]) -> list[tuple[str, str]]:
    """``Warning: 299 - "..."`` headers, as the apiserver sends for fieldValidation=Warn."""
    return [("Warning", '299 - "' + text.replace('"', '\\"') + '"') for text in warnings]
