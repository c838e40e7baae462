"""Encode a Swagger 2.0 document as gnostic's ``openapi.v2.Document`` protobuf.

client-go reads ``/openapi/v2`` only as protobuf: it asks for
``application/com.github.proto-openapi.spec.v2@v1.0+protobuf`` and hands the bytes to
``proto.Unmarshal`` with no JSON fallback (``DiscoveryClient.OpenAPISchema``). The
apiserver produces them from its JSON document with gnostic's ``ParseDocument``;
this module does the same for the subset of Swagger the emulator publishes, with the
field numbers of gnostic's ``openapiv2/OpenAPIv2.proto``.

gnostic's conventions, which kubectl depends on: maps (``paths``, ``definitions``,
``properties``, ``responses``) are repeated ``Named*`` messages in document order;
vendor extensions (``x-…``) and ``default``/``enum``/``example`` values are ``Any``
messages holding the value as YAML text (kubectl parses the YAML back); a message
whose key is present is written even when empty — kube-openapi tells a schema with
``properties: {}`` from one without. Keys outside the subset raise ``ValueError``:
the emulator only encodes documents it built, so that is a bug, not bad input.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from typing import Any

import yaml

Encoder = Callable[[int, Any], bytes]
Spec = Mapping[str, tuple[int, Encoder]]


def _varint(value: int) -> bytes:
    value &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _delimited(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _string(number: int, value: Any) -> bytes:
    return _delimited(number, str(value).encode()) if value != "" else b""


def _bool(number: int, value: Any) -> bytes:
    return _varint(number << 3) + b"\x01" if value else b""


def _int64(number: int, value: Any) -> bytes:
    return _varint(number << 3) + _varint(int(value)) if value else b""


def _double(number: int, value: Any) -> bytes:
    return _varint(number << 3 | 1) + struct.pack("<d", float(value)) if value else b""


def _strings(number: int, values: Any) -> bytes:
    return b"".join(_delimited(number, str(value).encode()) for value in values)


def yaml_text(value: Any) -> str:
    """A value as gnostic stores it in ``Any.yaml``."""
    text = yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=1 << 20)
    return text.removesuffix("...\n")


def _any(number: int, value: Any) -> bytes:
    return _delimited(number, _string(2, yaml_text(value)))


def _anys(number: int, values: Any) -> bytes:
    return b"".join(_any(number, value) for value in values)


def _message(spec: Callable[[], Spec], extensions: int = 0) -> Encoder:
    def encode(number: int, value: Any) -> bytes:
        return _delimited(number, encode_message(value, spec(), extensions))

    return encode


def _messages(spec: Callable[[], Spec], extensions: int = 0) -> Encoder:
    one = _message(spec, extensions)
    return lambda number, values: b"".join(one(number, value) for value in values)


def _named(value_encoder: Encoder) -> Encoder:
    """A map as gnostic's repeated ``Named*`` (name = 1, value = 2)."""

    def encode(number: int, mapping: Any) -> bytes:
        return b"".join(
            _delimited(number, _string(1, name) + value_encoder(2, value))
            for name, value in mapping.items()
        )

    return encode


def _wrapped(field: int, inner: Encoder) -> Encoder:
    """A value inside a one-field wrapper message (``Properties``, ``Definitions``…)."""
    return lambda number, value: _delimited(number, inner(field, value))


def encode_message(value: Mapping[str, Any], spec: Spec, extensions: int = 0) -> bytes:
    out = bytearray()
    named_extensions: dict[str, Any] = {}
    for key, item in value.items():
        if extensions and key.startswith("x-"):
            named_extensions[key] = item
            continue
        if key not in spec:
            raise ValueError(f"gnostic: no field for {key!r}")
        number, encoder = spec[key]
        out += encoder(number, item)
    if named_extensions:
        out += _named(_any)(extensions, named_extensions)
    return bytes(out)


# --- Schema -------------------------------------------------------------------------


def _type_item(number: int, value: Any) -> bytes:
    return _delimited(number, _strings(1, [value] if isinstance(value, str) else value))


def _items_item(number: int, value: Any) -> bytes:
    schemas = value if isinstance(value, list) else [value]
    return _delimited(number, _messages(_schema, 31)(1, schemas))


def _additional_properties(number: int, value: Any) -> bytes:
    if isinstance(value, bool):
        return _delimited(number, _varint(2 << 3) + (b"\x01" if value else b"\x00"))
    return _delimited(number, _message(_schema, 31)(1, value))


def _schema() -> Spec:
    return {
        "$ref": (1, _string),
        "format": (2, _string),
        "title": (3, _string),
        "description": (4, _string),
        "default": (5, _any),
        "multipleOf": (6, _double),
        "maximum": (7, _double),
        "exclusiveMaximum": (8, _bool),
        "minimum": (9, _double),
        "exclusiveMinimum": (10, _bool),
        "maxLength": (11, _int64),
        "minLength": (12, _int64),
        "pattern": (13, _string),
        "maxItems": (14, _int64),
        "minItems": (15, _int64),
        "uniqueItems": (16, _bool),
        "maxProperties": (17, _int64),
        "minProperties": (18, _int64),
        "required": (19, _strings),
        "enum": (20, _anys),
        "additionalProperties": (21, _additional_properties),
        "type": (22, _type_item),
        "items": (23, _items_item),
        "allOf": (24, _messages(_schema, 31)),
        "properties": (25, _wrapped(1, _named(_message(_schema, 31)))),
        "discriminator": (26, _string),
        "readOnly": (27, _bool),
        "example": (30, _any),
    }


# --- Operations -----------------------------------------------------------------------


def _sub_schema(numbers: dict[str, int]) -> Callable[[], Spec]:
    def spec() -> Spec:
        encoders: dict[str, Encoder] = {
            "required": _bool,
            "in": _string,
            "description": _string,
            "name": _string,
            "allowEmptyValue": _bool,
            "type": _string,
            "format": _string,
            "uniqueItems": _bool,
        }
        return {key: (number, encoders[key]) for key, number in numbers.items()}

    return spec


_QUERY = _sub_schema(
    {
        "required": 1,
        "in": 2,
        "description": 3,
        "name": 4,
        "allowEmptyValue": 5,
        "type": 6,
        "format": 7,
        "uniqueItems": 20,
    }
)
_PATH = _sub_schema(
    {"required": 1, "in": 2, "description": 3, "name": 4, "type": 5, "format": 6, "uniqueItems": 19}
)


def _body() -> Spec:
    return {
        "description": (1, _string),
        "name": (2, _string),
        "in": (3, _string),
        "required": (4, _bool),
        "schema": (5, _message(_schema, 31)),
    }


def _parameters_item(number: int, value: Any) -> bytes:
    """``ParametersItem``: a ``$ref``, a body parameter, or a query/path parameter."""
    if "$ref" in value:
        reference = _string(1, value["$ref"])
        return _delimited(number, _delimited(2, reference))
    if value.get("in") == "body":
        parameter = _message(_body, 6)(1, value)
    else:
        where = {"query": (3, _QUERY, 23), "path": (4, _PATH, 22)}.get(value.get("in", ""))
        if where is None:
            raise ValueError(f"gnostic: unsupported parameter location {value.get('in')!r}")
        field, spec, extensions = where
        parameter = _delimited(2, _message(spec, extensions)(field, value))
    return _delimited(number, _delimited(1, parameter))


def _repeated_parameters(number: int, values: Any) -> bytes:
    return b"".join(_parameters_item(number, value) for value in values)


def _response_value(number: int, value: Any) -> bytes:
    if "$ref" in value:
        return _delimited(number, _delimited(2, _string(1, value["$ref"])))
    response: dict[str, tuple[int, Encoder]] = {
        "description": (1, _string),
        "schema": (2, _wrapped(1, _message(_schema, 31))),
    }
    return _delimited(number, _delimited(1, encode_message(value, response, 5)))


def _operation() -> Spec:
    return {
        "tags": (1, _strings),
        "summary": (2, _string),
        "description": (3, _string),
        "operationId": (5, _string),
        "produces": (6, _strings),
        "consumes": (7, _strings),
        "parameters": (8, _repeated_parameters),
        "responses": (9, _wrapped(1, _named(_response_value))),
        "schemes": (10, _strings),
        "deprecated": (11, _bool),
    }


def _path_item() -> Spec:
    operation = _message(_operation, 13)
    return {
        "$ref": (1, _string),
        "get": (2, operation),
        "put": (3, operation),
        "post": (4, operation),
        "delete": (5, operation),
        "options": (6, operation),
        "head": (7, operation),
        "patch": (8, operation),
        "parameters": (9, _repeated_parameters),
    }


# --- Document -------------------------------------------------------------------------


def _security_definition(number: int, value: Any) -> bytes:
    if value.get("type") != "apiKey":
        raise ValueError("gnostic: only apiKey security definitions are supported")
    api_key: dict[str, tuple[int, Encoder]] = {
        "type": (1, _string),
        "name": (2, _string),
        "in": (3, _string),
        "description": (4, _string),
    }
    return _delimited(number, _delimited(2, encode_message(value, api_key, 5)))


def _security_requirement(number: int, value: Any) -> bytes:
    array = _wrapped(1, _strings)
    return _delimited(number, _named(array)(1, value))


def _info() -> Spec:
    return {"title": (1, _string), "version": (2, _string), "description": (3, _string)}


def _document() -> Spec:
    return {
        "swagger": (1, _string),
        "info": (2, _message(_info, 7)),
        "host": (3, _string),
        "basePath": (4, _string),
        "schemes": (5, _strings),
        "consumes": (6, _strings),
        "produces": (7, _strings),
        "paths": (8, lambda n, v: _delimited(n, _named(_message(_path_item, 10))(2, v))),
        "definitions": (9, _wrapped(1, _named(_message(_schema, 31)))),
        "security": (12, lambda n, v: b"".join(_security_requirement(n, item) for item in v)),
        "securityDefinitions": (13, _wrapped(1, _named(_security_definition))),
    }


def encode_document(document: Mapping[str, Any]) -> bytes:
    """The protobuf bytes of a Swagger 2.0 document (a JSON-shaped mapping)."""
    return encode_message(document, _document(), 16)
