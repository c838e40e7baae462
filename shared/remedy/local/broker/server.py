"""``LocalBroker``: the manifests, the ingress server and the delivery workers, together.

Usage (``remedy up`` and the tests)::

    broker = LocalBroker(Path("knative"), {"push-intake": "http://127.0.0.1:5123", ...})
    broker.start()            # binds a free port
    sink = broker.url         # what functions get as K_SINK
    broker.wait_idle()        # every delivery finished
    broker.stop()

Construction validates everything (manifests, that every Service the Triggers and the
dead-letter sink use has a URL), so a bad setup fails before any port is bound.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Self

from remedy.local.broker import manifests
from remedy.local.broker.delivery import Sessions
from remedy.local.broker.ingress import Ingress
from remedy.local.broker.records import Records
from remedy.local.broker.routing import Router, routes
from remedy.local.broker.scheduler import Scheduler
from remedy.local.http_server import serve_in_thread
from remedy.local.lifecycle import HttpService

DEFAULT_WORKERS = 32


class LocalBroker(HttpService):
    what = "the broker"

    def __init__(
        self,
        knative_dir: Path,
        subscribers: Mapping[str, str],
        *,
        broker: str | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.topology = manifests.load(Path(knative_dir), broker=broker)
        self._routes = routes(self.topology, subscribers)
        self._workers = workers
        self.records = Records()
        self._scheduler: Scheduler | None = None
        self._sessions: Sessions | None = None

    @property
    def path(self) -> str:
        spec = self.topology.broker
        return f"/{spec.namespace or 'default'}/{spec.name}"

    def start(self, *, port: int = 0, host: str = "127.0.0.1") -> Self:
        self._check_stopped()
        self._scheduler = Scheduler(workers=self._workers)
        self._sessions = Sessions(pool_size=self._workers)
        router = Router(
            routes=self._routes,
            records=self.records,
            scheduler=self._scheduler,
            sessions=self._sessions,
        )
        spec = self.topology.broker
        app = Ingress(router=router, namespace=spec.namespace, broker=spec.name)
        self._served = serve_in_thread(app, host=host, port=port)
        return self

    @property
    def url(self) -> str:
        """The ingress URL (Knative's ``/<namespace>/<broker>`` path), e.g. for K_SINK."""
        return self.served.url + self.path

    @property
    def port(self) -> int:
        return self.served.port

    def wait_for(self, predicate: Callable[[Records], bool], *, timeout: float = 10.0) -> None:
        self.records.wait_for(predicate, timeout=timeout)

    def wait_idle(self, *, timeout: float = 10.0) -> None:
        self.records.wait_idle(timeout=timeout)

    def stop(self) -> None:
        super().stop()
        if self._scheduler is not None:
            self._scheduler.shutdown()
            self._scheduler = None
        if self._sessions is not None:
            self._sessions.close()
            self._sessions = None
