"""Untrusted JSON, from the parser up to every function's CloudEvent decoding.

Covers:
- ``untrusted_json.loads``: values as ``json.loads`` gives them (bytes in UTF-8/16/32
  or text); nesting up to 200 levels accepted and everything it accepts also parsed by
  pydantic's JSON parser; 201 levels, 100,000 levels (arrays, objects, unterminated)
  refused as ``TooDeep``; brackets inside strings not counted; invalid UTF-8 and
  syntax errors refused as ``NotJson`` with a short message that never quotes the input;
- ``codec.decode``: deep JSON in a structured event, in its ``data_base64``, or as
  binary-mode data → ``BadEvent`` saying so; binary data that is not JSON still
  arrives as sent (the SDK's behaviour);
- every CloudEvent function as functions-framework serves it (and the reconciler on
  both of its paths), given a structured event or a binary one with 100,000-level
  data → 400 with the reason, one warning line and no traceback.
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pydantic_core
import pytest

from remedy import untrusted_json
from remedy.events.codec import BadEvent, decode
from remedy.untrusted_json import MAX_DEPTH, NotJson, TooDeep
from tests.intake.conftest import function_app

DEEP = 100_000
BINARY = {
    "ce-specversion": "1.0",
    "ce-id": "deep-1",
    "ce-source": "https://github.com/octo/hello",
    "ce-type": "dev.knative.source.github.push",
    "content-type": "application/json",
}
STRUCTURED = {"content-type": "application/cloudevents+json"}


def _arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


def _objects(levels: int) -> str:
    return '{"a":' * levels + "null" + "}" * levels


def _envelope(**data: Any) -> bytes:
    attributes = {name.removeprefix("ce-"): value for name, value in BINARY.items()}
    attributes["datacontenttype"] = attributes.pop("content-type")
    return json.dumps(attributes)[:-1].encode() + b", " + _members(data) + b"}"


def _members(data: dict[str, Any]) -> bytes:
    # raw JSON text spliced in: json.dumps itself cannot write 100,000 levels
    return b", ".join(f'"{name}": {text}'.encode() for name, text in data.items())


@pytest.mark.parametrize(
    ("document", "value"),
    [
        (b'{"a": [1, "x"]}', {"a": [1, "x"]}),
        ('{"a": [1, "x"]}', {"a": [1, "x"]}),
        ('{"é": "✓"}'.encode("utf-16"), {"é": "✓"}),
        (b"5", 5),
        (f'["{"[" * 500}"]', ["[" * 500]),
        (f'["\\"{"{" * 500}"]', ['"' + "{" * 500]),
    ],
)
def test_values_are_what_json_loads_gives(document: bytes | str, value: Any) -> None:
    assert untrusted_json.loads(document) == value


@pytest.mark.parametrize("nest", [_arrays, _objects])
def test_the_limit_is_exact_and_within_pydantics(nest: Any) -> None:
    deepest = nest(MAX_DEPTH)
    assert untrusted_json.loads(deepest) == json.loads(deepest)
    assert pydantic_core.from_json(deepest) == json.loads(deepest)
    with pytest.raises(TooDeep, match=f"nesting deeper than {MAX_DEPTH} levels"):
        untrusted_json.loads(nest(MAX_DEPTH + 1))


@pytest.mark.parametrize(
    "document",
    [_arrays(DEEP), _objects(DEEP), "[" * DEEP, ("[" * 900 + "]" * 900).encode()],
    ids=["arrays", "objects", "unterminated", "bytes-within-the-stack"],
)
def test_deep_documents_are_refused_not_a_recursion_error(document: bytes | str) -> None:
    with pytest.raises(TooDeep) as refused:
        untrusted_json.loads(document)
    assert str(refused.value) == f"nesting deeper than {MAX_DEPTH} levels"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"", "Expecting value: line 1 column 1 (char 0)"),
        (b"{not json" + b"x" * 1000, "Expecting property name enclosed in double quotes"),
        (b'{"a": "\xff"}', "not valid utf-8: invalid start byte at byte 7"),
    ],
)
def test_other_failures_are_not_json_without_quoting_the_input(
    document: bytes, message: str
) -> None:
    with pytest.raises(NotJson) as refused:
        untrusted_json.loads(document)
    assert message in str(refused.value)
    assert len(str(refused.value)) < 100
    assert not isinstance(refused.value, TooDeep)


@pytest.mark.parametrize(
    ("headers", "body", "complaint"),
    [
        (STRUCTURED, _envelope(data=_arrays(DEEP)), "the body is not JSON: nesting deeper"),
        (STRUCTURED, _envelope(data=_objects(DEEP)), "the body is not JSON: nesting deeper"),
        (STRUCTURED, _arrays(DEEP).encode(), "the body is not JSON: nesting deeper"),
        (
            STRUCTURED,
            _envelope(data_base64=json.dumps(base64.b64encode(_arrays(DEEP).encode()).decode())),
            "the event data is not JSON: nesting deeper",
        ),
        (BINARY, _arrays(DEEP).encode(), "the event data is not JSON: nesting deeper"),
        (BINARY, _objects(DEEP).encode(), "the event data is not JSON: nesting deeper"),
    ],
    ids=[
        "structured-arrays",
        "structured-objects",
        "not-an-envelope",
        "base64",
        "binary",
        "binary-objects",
    ],
)
def test_decoding_refuses_deep_json(headers: dict[str, str], body: bytes, complaint: str) -> None:
    with pytest.raises(BadEvent, match=complaint):
        decode(headers, body)


def test_binary_data_that_is_not_json_arrives_as_sent() -> None:
    event = decode({**BINARY, "content-type": "text/plain"}, b"[[[ not json")
    assert event.get_data() == b"[[[ not json"
    assert decode(BINARY, b'{"n": 1}').get_data() == {"n": 1}


FUNCTIONS = [
    ("push-intake", "/"),
    ("agent-cancel", "/"),
    ("label-update", "/"),
    ("workflow-resume", "/"),
    ("feedback-intake", "/"),
    ("reconciler", "/"),
    ("reconciler", "/dead-letter"),
]


@pytest.mark.parametrize(("name", "path"), FUNCTIONS)
@pytest.mark.parametrize(
    ("headers", "body"),
    [(STRUCTURED, _envelope(data=_arrays(DEEP))), (BINARY, _objects(DEEP).encode())],
    ids=["structured", "binary"],
)
def test_every_function_answers_400_to_deep_json(
    caplog: pytest.LogCaptureFixture,
    name: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    """Refused before the handler (and its Redis, Kubernetes, GitHub) is even built."""
    caplog.set_level(logging.INFO)
    response = function_app(name).test_client().post(path, data=body, headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["error"] == "bad_event"
    assert f"nesting deeper than {MAX_DEPTH} levels" in response.json["message"]
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
