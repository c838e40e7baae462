"""Match a request to a route written in GitHub's own template notation.

Routes are declared as GitHub documents them (``/repos/{owner}/{repo}/issues/{number}``)
so the same string names the endpoint in the stats. ``{number}`` only matches digits,
and ``{name}`` (a label name) may contain ``/``: PyGithub quotes label names with
``urllib.parse.quote``, which leaves ``/`` unescaped, so ``area/ci`` arrives as two
path segments (and ``area%2Fci`` arrives decoded to the same thing).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Generic, TypeVar

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

H = TypeVar("H")

_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_CONVERTERS = {"number": "int", "name": "path"}


def _rule(template: str) -> str:
    def convert(match: re.Match[str]) -> str:
        name = match.group(1)
        converter = _CONVERTERS.get(name)
        return f"<{converter}:{name}>" if converter else f"<{name}>"

    return _PLACEHOLDER.sub(convert, template)


class Router(Generic[H]):
    def __init__(self, routes: Iterable[tuple[str, str, H]]) -> None:
        self._handlers: dict[str, tuple[str, H]] = {}
        rules = []
        for method, template, handler in routes:
            key = f"{method} {template}"
            if key in self._handlers:
                raise ValueError(f"route declared twice: {key}")
            self._handlers[key] = (template, handler)
            rules.append(Rule(_rule(template), endpoint=key, methods=[method]))
        self._adapter = Map(rules, strict_slashes=False, merge_slashes=False).bind("emulator")

    def match(self, method: str, path: str) -> tuple[str, H, dict[str, Any]] | None:
        """``(template, handler, arguments)``, or ``None`` when no route fits."""
        try:
            key, args = self._adapter.match(path, method)
        except HTTPException:  # not found, wrong method, or a redirect to a canonical form
            return None
        template, handler = self._handlers[str(key)]
        return template, handler, dict(args)
