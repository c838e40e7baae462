"""CloudEvents as the broker carries them: string attributes plus the data bytes.

The broker forwards events, it does not interpret them, so it keeps ``data`` as the
exact bytes it received (binary mode) or their faithful rendering (structured mode) and
re-sends them in binary mode, the way Knative's dispatcher does. The cloudevents SDK
decides what is an event and validates it; the SDK's own ``CloudEvent`` object is not
used for forwarding because it invents a ``time`` attribute the sender never set.

Encoding detection follows the Go SDK that Knative uses: a ``ce-specversion`` header
means binary mode, a ``application/cloudevents`` content type means structured mode;
anything else is not an event at all (which, for a subscriber's 2xx reply, is fine only
when the body is empty). Header values are not percent-decoded or encoded: the Python
SDK (1.12) that every remedy component uses does neither, so values pass unchanged.
"""

from __future__ import annotations

import base64
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from cloudevents import exceptions as ce_exceptions
from cloudevents.http import from_http

from remedy import untrusted_json

REQUIRED = ("specversion", "id", "source", "type")
SUPPORTED_SPECVERSIONS = ("1.0", "0.3")


class NotACloudEvent(ValueError):
    """The message carries no CloudEvent in any content mode."""


class MalformedCloudEvent(ValueError):
    """The message claims to be a CloudEvent but is not a valid one."""


class Encoding(enum.Enum):
    BINARY = "binary"
    STRUCTURED = "structured"
    BATCH = "batch"
    UNKNOWN = "unknown"


def encoding_of(headers: Mapping[str, str]) -> Encoding:
    lowered = {key.lower(): value for key, value in headers.items()}
    if "ce-specversion" in lowered:
        return Encoding.BINARY
    media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
    if media_type.startswith("application/cloudevents-batch"):
        return Encoding.BATCH
    if media_type.startswith("application/cloudevents"):
        return Encoding.STRUCTURED
    return Encoding.UNKNOWN


def _is_json(media_type: str | None) -> bool:
    if not media_type:
        return True  # structured JSON without datacontenttype means application/json
    base = media_type.split(";")[0].strip().lower()
    return base == "application/json" or base.endswith("+json") or base == "text/json"


def _attribute_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, separators=(",", ":"))


def _header_safe(value: str) -> str:
    """HTTP headers travel as latin-1; anything else goes percent-encoded UTF-8."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return "".join(
            char if ord(char) < 256 else "".join(f"%{b:02X}" for b in char.encode("utf-8"))
            for char in value
        )
    return value


@dataclass(frozen=True)
class Envelope:
    attributes: Mapping[str, str]
    data: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "attributes", MappingProxyType(dict(self.attributes)))

    @property
    def id(self) -> str:
        return self.attributes["id"]

    @property
    def type(self) -> str:
        return self.attributes["type"]

    @property
    def source(self) -> str:
        return self.attributes["source"]

    def get(self, name: str) -> str | None:
        return self.attributes.get(name)

    def replace(self, changes: Mapping[str, str | None]) -> Envelope:
        """A copy with attributes set, or removed where the new value is ``None``."""
        attributes = dict(self.attributes)
        for name, value in changes.items():
            if value is None:
                attributes.pop(name, None)
            else:
                attributes[name] = value
        return Envelope(attributes, self.data)

    def to_binary(self) -> tuple[dict[str, str], bytes]:
        """HTTP headers and body of this event in binary content mode."""
        headers = {
            f"ce-{name}": _header_safe(value)
            for name, value in self.attributes.items()
            if name != "datacontenttype"
        }
        content_type = self.attributes.get("datacontenttype")
        if content_type:
            headers["content-type"] = _header_safe(content_type)
        return headers, self.data or b""


def _validate_with_sdk(headers: Mapping[str, str], body: bytes) -> None:
    try:
        from_http(dict(headers), body, data_unmarshaller=lambda raw: raw)
    except ce_exceptions.GenericException as exc:
        raise MalformedCloudEvent(str(exc)) from None
    except (ValueError, TypeError) as exc:  # e.g. the SDK's JSON decoding of a bad envelope
        raise MalformedCloudEvent(f"{type(exc).__name__}: {exc}") from None


def _check_required(attributes: Mapping[str, str]) -> None:
    missing = [name for name in REQUIRED if not attributes.get(name)]
    if missing:
        raise MalformedCloudEvent(f"required attributes missing or empty: {missing}")
    if attributes["specversion"] not in SUPPORTED_SPECVERSIONS:
        raise MalformedCloudEvent(f"unsupported specversion {attributes['specversion']!r}")


def _from_binary(headers: Mapping[str, str], body: bytes) -> Envelope:
    attributes = {
        key[3:].lower(): value for key, value in headers.items() if key.lower().startswith("ce-")
    }
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
    if content_type:
        attributes["datacontenttype"] = content_type
    _check_required(attributes)
    _validate_with_sdk(headers, body)
    return Envelope(attributes, body or None)


def _from_structured(headers: Mapping[str, str], body: bytes) -> Envelope:
    try:
        raw = untrusted_json.loads(body)
    except untrusted_json.NotJson as exc:
        raise MalformedCloudEvent(f"structured event is not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise MalformedCloudEvent("structured event must be a JSON object")
    attributes = {
        name: _attribute_text(value)
        for name, value in raw.items()
        if name not in ("data", "data_base64") and value is not None
    }
    _check_required(attributes)
    _validate_with_sdk(headers, body)
    data: bytes | None = None
    if raw.get("data_base64") is not None:
        try:
            data = base64.b64decode(raw["data_base64"], validate=True)
        except (ValueError, TypeError) as exc:
            raise MalformedCloudEvent(f"data_base64 is not base64: {exc}") from None
    elif raw.get("data") is not None:
        value = raw["data"]
        if isinstance(value, str) and not _is_json(attributes.get("datacontenttype")):
            data = value.encode("utf-8")
        else:
            data = json.dumps(value, ensure_ascii=False).encode("utf-8")
    return Envelope(attributes, data)


def parse(headers: Mapping[str, str], body: bytes) -> Envelope:
    """The event in an HTTP message, or NotACloudEvent / MalformedCloudEvent."""
    encoding = encoding_of(headers)
    if encoding is Encoding.BINARY:
        return _from_binary(headers, body)
    if encoding is Encoding.STRUCTURED:
        return _from_structured(headers, body)
    if encoding is Encoding.BATCH:
        raise MalformedCloudEvent("batched CloudEvents are not accepted; send one event each")
    raise NotACloudEvent(
        "no CloudEvent found: expected ce-* headers (binary mode) or a "
        "Content-Type of application/cloudevents+json (structured mode)"
    )
