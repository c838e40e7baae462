"""Started, then stopped: the protocol the local platform's long-lived parts share.

The Kubernetes and GitHub emulators, the local broker and the simulators each start
background work (a server thread, watches, workers) and stop it again, and each is a
context manager: ``with`` starts it unless it already runs, and always stops it.
:class:`Service` writes that protocol once; a subclass says how it starts, how it
stops and whether it runs. :class:`HttpService` is a Service that answers over HTTP
from one bound server (the emulators, the broker): running means bound.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import ClassVar, Self

from remedy.local.http_server import ServedApp


class Service(ABC):
    @property
    @abstractmethod
    def running(self) -> bool:
        """Started and not stopped since."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self if self.running else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class HttpService(Service):
    what: ClassVar[str]
    """What it is, for the errors of using it at the wrong time."""

    _served: ServedApp | None = None

    @property
    def running(self) -> bool:
        return self._served is not None

    @property
    def served(self) -> ServedApp:
        """The bound server; an error before ``start()``."""
        if self._served is None:
            raise RuntimeError(f"{self.what} is not running; call start() first")
        return self._served

    def stop(self) -> None:
        """Stop the server and close its connections (idle and streaming ones too)."""
        if self._served is not None:
            self._served.stop()
            self._served = None

    def _check_stopped(self) -> None:
        if self._served is not None:
            raise RuntimeError(f"{self.what} is already running")
