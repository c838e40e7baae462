"""Parsing JSON that came from outside: a value, or :class:`NotJson` saying why not.

``json.loads`` recurses once per nesting level, so a document nested 100,000 levels
deep (``[[[[…]]]]``, a few hundred kilobytes) raises ``RecursionError`` — not a
``ValueError`` — which every edge let through as a 500 with a traceback. Where the
recursion gives out depends on how deep the stack already is, so "whatever the
parser survives" is no rule: any document nesting deeper than :data:`MAX_DEPTH` is
refused, the same way at every edge, whether the parser gave out or not.

The limit is pydantic's own (its JSON parser, jiter, refuses deeper documents), so
what is accepted here also passes ``model_validate_json`` and re-encodes with
``json.dumps`` anywhere in remedy. GitHub's payloads nest about ten levels.

Every parser facing the outside goes through :func:`loads`: webhook-gateway, the
control-api bodies, CloudEvent decoding in every function, the reconciler's dead
letters and the local broker's ingress. Callers answer 400 with the exception's
message, which is short and never quotes the document.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 200
"""Deepest nesting of arrays and objects accepted (pydantic's JSON parser's limit)."""


class NotJson(ValueError):
    """The document is not JSON remedy accepts; the message says why, briefly."""


class TooDeep(NotJson):
    """The document nests arrays and objects deeper than :data:`MAX_DEPTH`."""


def loads(document: bytes | bytearray | str) -> Any:
    """``json.loads`` for untrusted input: the value, or :class:`NotJson`."""
    text = _text(document)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotJson(str(exc)) from None
    except RecursionError:
        # the C parser gives up cleanly, somewhere near 1000 levels minus the stack in use
        raise TooDeep(f"nesting deeper than {MAX_DEPTH} levels") from None
    # Fewer opening brackets than the limit cannot nest deeper than it: most bodies stop here.
    if text.count("[") + text.count("{") > MAX_DEPTH and _deeper_than_allowed(value):
        raise TooDeep(f"nesting deeper than {MAX_DEPTH} levels")
    return value


def _text(document: bytes | bytearray | str) -> str:
    if isinstance(document, str):
        return document
    try:  # exactly what json.loads does with bytes: UTF-8, -16 or -32 by the first bytes
        return bytes(document).decode(json.detect_encoding(document), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise NotJson(f"not valid {exc.encoding}: {exc.reason} at byte {exc.start}") from None


def _deeper_than_allowed(value: Any) -> bool:
    """Level by level, without recursion: cheaper than parsing, stops past the limit."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(MAX_DEPTH):  # ``level``: the containers one level deeper each round
        if not level:
            return False
        level = [
            child
            for node in level
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
    return bool(level)
