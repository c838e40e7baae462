"""Stand-ins for functions this checkout does not implement yet.

The local broker loads every Trigger in ``knative/``, and some may name functions not
written yet. Rather than fail or silently drop, each such Service answers every
delivery with 202 and one log line saying the event went unhandled and why.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from remedy.platform.http_server import ServedApp, serve_in_thread


class AbsentFunctions:
    def __init__(self, names: Iterable[str], *, say: Callable[[str], None]) -> None:
        self.names = tuple(names)
        self._say = say
        self._served: dict[str, ServedApp] = {}

    def _app(self, name: str) -> Any:
        def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
            environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            event_type = environ.get("HTTP_CE_TYPE", "an event")
            self._say(f"{name} is not implemented in this checkout: {event_type} not handled")
            start_response("202 Accepted", [("Content-Length", "0")])
            return [b""]

        return app

    def start(self) -> AbsentFunctions:
        for name in self.names:
            self._served[name] = serve_in_thread(self._app(name))
        return self

    @property
    def urls(self) -> dict[str, str]:
        return {name: served.url for name, served in self._served.items()}

    def stop(self) -> None:
        for served in self._served.values():
            served.stop()
        self._served.clear()
