"""Following custom objects the way client-go's informers do: list, then watch.

The agent simulator and the workflow simulator need the same loop, so it lives here
once: list the objects a label selector picks, hand each to ``observe``, then watch
from the list's resourceVersion (with bookmarks) and hand on every change; when the
watch ends with an ERROR event (410 Gone: the history it resumed from was compacted)
or the connection fails, list again. :class:`ListWatch` runs that loop on its own
thread; ``stop`` ends it at once by shutting the open watch response.

It uses the official kubernetes client only (``CustomObjectsApi`` list calls with
``watch=True`` and ``_preload_content=False``, read line by line), so it works the same
against the Kubernetes API emulator and a real cluster.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes import client

log = logging.getLogger(__name__)

ListObjects = Callable[..., Any]
"""A client list call, taking ``watch``, ``resource_version`` and the like as keywords."""
Observe = Callable[[str, dict[str, Any]], None]
"""Called with ``ADDED``/``MODIFIED``/``DELETED`` and the object."""
Listed = Callable[[list[dict[str, Any]]], None]
"""Called with every object of a (re-)list, after each was observed: what is not in it
is gone (it may have been deleted while no watch was open)."""


def lines(response: Any) -> Iterator[str]:
    """The JSON lines of a watch response, as they arrive."""
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=False):
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        for line in complete:
            if line.strip():
                yield line.decode("utf-8", errors="replace")


def resource_version(obj: dict[str, Any]) -> int:
    """The object's resourceVersion as a number (0 when missing or not a number)."""
    try:
        return int((obj.get("metadata") or {}).get("resourceVersion") or 0)
    except ValueError:
        return 0


def lister(
    custom: client.CustomObjectsApi,
    resource: tuple[str, str, str],
    namespace: str | None,
    *,
    selector: str,
) -> ListObjects:
    """The list call for ``resource`` (group, version, plural) in ``namespace`` (None: all)."""
    group, version, plural = resource
    if namespace is None:
        return functools.partial(
            custom.list_cluster_custom_object, group, version, plural, label_selector=selector
        )
    return functools.partial(
        custom.list_namespaced_custom_object,
        group,
        version,
        namespace,
        plural,
        label_selector=selector,
    )


class ListWatch:
    def __init__(
        self,
        list_objects: ListObjects,
        observe: Observe,
        *,
        name: str,
        listed: Listed | None = None,
        timeout_seconds: int = 300,
        retry_seconds: float = 1.0,
    ) -> None:
        self._list = list_objects
        self._observe = observe
        self._listed = listed
        self.name = name
        self.timeout_seconds = timeout_seconds
        self.retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._response: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> ListWatch:
        self._thread = threading.Thread(target=self.run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._lock:
            response = self._response
        if response is not None:
            response.shutdown()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def run(self) -> None:
        """List and watch until stopped (the thread's body)."""
        while not self._stopping.is_set():
            try:
                listing = self._list()
                items: list[dict[str, Any]] = listing.get("items") or []
                for item in items:
                    self._observe("ADDED", item)
                if self._listed is not None:
                    self._listed(items)
                self._follow(str(listing["metadata"]["resourceVersion"]))
            except Exception as error:
                if self._stopping.is_set():
                    return
                log.warning("%s: watch failed (%s); listing again", self.name, error)
                self._stopping.wait(self.retry_seconds)

    def _follow(self, version: str) -> None:
        """Watch from ``version`` until stopped; return to list again after an ERROR."""
        while not self._stopping.is_set():
            response = self._list(
                watch=True,
                resource_version=version,
                allow_watch_bookmarks=True,
                timeout_seconds=self.timeout_seconds,
                _preload_content=False,
            )
            with self._lock:
                self._response = response
            try:
                if self._stopping.is_set():
                    return
                for line in lines(response):
                    event = json.loads(line)
                    if event["type"] == "ERROR":
                        return
                    obj = event["object"]
                    version = str(obj["metadata"]["resourceVersion"])
                    if event["type"] != "BOOKMARK":
                        self._observe(event["type"], obj)
            finally:
                with self._lock:
                    self._response = None
                response.release_conn()
