"""``?watch=true``: a chunked stream of JSON events, one per line.

Semantics follow the apiserver's watch cache:

- no ``resourceVersion`` (or ``"0"``) → synthetic ``ADDED`` events for what exists now,
  then live events; ``resourceVersion=N`` → only changes after N;
- a compacted ``N`` → the stream opens and carries one ``ERROR`` event with a 410
  Status ("too old resource version"), which clients answer by re-listing;
- with label or field selectors, an update that moves an object into or out of the
  selection arrives as ``ADDED`` or ``DELETED``;
- ``allowWatchBookmarks`` → periodic ``BOOKMARK`` events (and the
  ``k8s.io/initial-events-end`` bookmark after ``sendInitialEvents``);
- ``timeoutSeconds`` ends the stream; so does the client going away or the server
  stopping.

Each event's object is the object in the watched version (the stored JSON text when
that is the storage version), or a one-row Table for ``kubectl get -w``.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

from remedy.local.emulators.kube import errors, tables, versions
from remedy.local.emulators.kube.cluster import Cluster
from remedy.local.emulators.kube.errors import ApiError
from remedy.local.emulators.kube.fields import FieldSelector
from remedy.local.emulators.kube.http import Output, Request, Response
from remedy.local.emulators.kube.resources import ResourceType
from remedy.local.emulators.kube.selectors import LabelSelector
from remedy.local.emulators.kube.store import Event, Stored, dumps

DEFAULT_TIMEOUT_SECONDS = 1800
_IDLE_CHECK_SECONDS = 1.0


def _encode(kind: str, raw: str) -> bytes:
    return ('{"type":"' + kind + '","object":' + raw + "}\n").encode("utf-8")


def _client_gone(sock: Any) -> bool:
    """A peer that closed its side reads as readable with nothing to read.

    A watching client sends nothing after its request, so on TLS (where peeking is
    not possible) anything readable — a close_notify or the FIN — means it left.
    """
    if sock is None:
        return False
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        if isinstance(sock, ssl.SSLSocket):
            return True
        return bool(sock.recv(1, socket.MSG_PEEK) == b"")
    except (OSError, ValueError):
        return True


def _translate(event: Event, matches: Callable[[Stored], bool]) -> str | None:
    now = matches(event.stored)
    before = event.previous is not None and matches(event.previous)
    if event.type == "ADDED":
        return "ADDED" if now else None
    if event.type == "DELETED":
        return "DELETED" if before or now else None
    if now:
        return "MODIFIED" if before else "ADDED"
    return "DELETED" if before else None


class WatchStream:
    """One watch request, from its query parameters to the bytes it streams."""

    def __init__(
        self,
        cluster: Cluster,
        resource: ResourceType,
        namespace: str | None,
        *,
        labels: LabelSelector | None,
        fields: FieldSelector | None,
        bookmark_interval: float,
    ) -> None:
        self.cluster = cluster
        self.resource = resource
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.bookmark_interval = bookmark_interval

    def matches(self, record: Stored) -> bool:
        if self.namespace and record.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(record.labels):
            return False
        return self.fields is None or self.fields.matches(record.obj)

    def respond(self, request: Request, output: Output) -> Response:
        rv_param = request.query.get("resourceVersion", "")
        if rv_param and not rv_param.isdigit():
            raise errors.bad_request(f'invalid resource version: "{rv_param}"')
        timeout = request.int_param("timeoutSeconds") or DEFAULT_TIMEOUT_SECONDS
        bookmarks = request.flag("allowWatchBookmarks")
        send_initial = request.query.get("sendInitialEvents", "")
        initial: list[Stored] = []
        with self.cluster.store.lock:
            if send_initial == "true" or (rv_param in ("", "0") and send_initial != "false"):
                listing = self.cluster.list(
                    self.resource, self.namespace, labels=self.labels, fields=self.fields
                )
                initial, start = listing.items, listing.resource_version
            else:
                start = int(rv_param or self.cluster.store.resource_version)
        render = self._renderer(output, request.query.get("includeObject", "Metadata"))
        body = self._events(
            initial,
            start,
            deadline=time.monotonic() + timeout,
            bookmarks=bookmarks,
            initial_end=send_initial == "true" and bookmarks,
            render=render,
            sock=request.environ.get("werkzeug.socket"),
        )
        return Response(
            200, body, [("Content-Type", output.media_type), ("Cache-Control", "no-cache, private")]
        )

    def _renderer(self, output: Output, include: str) -> Callable[[Stored], str]:
        if not output.table:
            return lambda record: versions.served_text(record, self.resource)
        return lambda record: dumps(
            tables.table(
                self.resource,
                [record],
                resource_version=record.metadata.get("resourceVersion", ""),
                include=include,
            )
        )

    def _bookmark(self, resource_version: int, *, initial_end: bool = False) -> bytes:
        metadata: dict[str, Any] = {"resourceVersion": str(resource_version)}
        if initial_end:
            metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
        body = {
            "kind": self.resource.kind,
            "apiVersion": self.resource.api_version,
            "metadata": metadata,
        }
        return _encode("BOOKMARK", dumps(body))

    def _events(
        self,
        initial: list[Stored],
        start: int,
        *,
        deadline: float,
        bookmarks: bool,
        initial_end: bool,
        render: Callable[[Stored], str],
        sock: Any,
    ) -> Iterator[bytes]:
        store = self.cluster.store
        for record in initial:
            yield _encode("ADDED", render(record))
        if initial_end:
            yield self._bookmark(start, initial_end=True)
        last, last_sent = start, time.monotonic()
        while True:
            with store.lock:
                try:
                    events = store.events_after(last, self.resource.storage_key)
                except ApiError as error:
                    yield _encode("ERROR", dumps(error.status()))
                    return
                last = store.resource_version
            for event in events:
                kind = _translate(event, self.matches)
                if kind is not None:
                    yield _encode(kind, render(event.stored))
                    last_sent = time.monotonic()
            now = time.monotonic()
            if store.closed or now >= deadline or _client_gone(sock):
                if bookmarks and not store.closed:
                    yield self._bookmark(last)
                return
            if bookmarks and now - last_sent >= self.bookmark_interval:
                yield self._bookmark(last)
                last_sent = now
            store.wait_after(last, min(deadline, now + _IDLE_CHECK_SECONDS))
