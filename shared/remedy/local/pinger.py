"""The local stand-in for the PingSource: a ping event into the broker every few seconds.

On a cluster ``knative/sources.yaml``'s PingSource does this once a minute; locally the
reconciler is driven more often so forced cancellations and kept resumes happen soon.
The event's type and source are the PingSource's, so the real Trigger routes it.
"""

from __future__ import annotations

import logging
import threading
import uuid

from cloudevents.http import CloudEvent

from remedy.adapters.event_sink import HttpEventSink
from remedy.events.catalogue import PING
from remedy.ports import SinkError

SOURCE = "/apis/v1/namespaces/remedy/pingsources/remedy-reconcile"
log = logging.getLogger("remedy.pinger")


class Pinger:
    def __init__(self, broker_url: str, *, every_s: float) -> None:
        self._sink = HttpEventSink(broker_url, timeout_s=2.0)
        self._every_s = every_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pinger", daemon=True)

    def start(self) -> Pinger:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            event = CloudEvent(
                {
                    "type": PING,
                    "source": SOURCE,
                    "id": str(uuid.uuid4()),
                    "datacontenttype": "application/json",
                },
                {"reason": "periodic reconcile"},
            )
            try:
                self._sink.send(event)
            except SinkError as exc:
                log.warning("ping not accepted: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sink.close()
