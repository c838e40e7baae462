"""The in-memory object store: etcd's part of the apiserver.

Objects are kept per (group, plural) and namespace, each as an immutable
:class:`Stored` record: the parsed object (never mutated once stored) and its JSON
text, serialised once at write time so that lists and watch events are string joins
rather than deep copies. Every write takes the next value of one global, strictly
increasing ``resourceVersion`` and appends one event to a bounded log, which is what
``watch`` replays; asking for history older than the log answers 410 Gone
("too old resource version"), as the real server does once etcd has compacted.

One re-entrant lock guards everything; a condition on it wakes watchers.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from remedy.local.emulators.kube.errors import ApiError, gone

StorageKey = tuple[str, str]  # (group, plural)

_DUMPS = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True, slots=True)
class Stored:
    """One version of one object. ``obj`` is shared: read it, never change it."""

    obj: dict[str, Any]
    raw: str

    @classmethod
    def of(cls, obj: dict[str, Any]) -> Stored:
        return cls(obj, _DUMPS(obj))

    def copy(self) -> dict[str, Any]:
        """A private, mutable copy (parsing the JSON beats ``copy.deepcopy``)."""
        copied: dict[str, Any] = json.loads(self.raw)
        return copied

    @property
    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = self.obj["metadata"]
        return meta

    @property
    def name(self) -> str:
        return str(self.metadata["name"])

    @property
    def namespace(self) -> str:
        return str(self.metadata.get("namespace") or "")

    @property
    def labels(self) -> dict[str, str]:
        labels: dict[str, str] = self.metadata.get("labels") or {}
        return labels

    @property
    def resource_version(self) -> int:
        return int(self.metadata["resourceVersion"])


@dataclass(frozen=True, slots=True)
class Event:
    resource_version: int
    type: str  # ADDED, MODIFIED, DELETED
    key: StorageKey
    stored: Stored
    # The object before this write (None for ADDED): a filtered watch needs it to
    # turn a MODIFIED that leaves or enters the selection into DELETED or ADDED.
    previous: Stored | None = None


class Store:
    """Objects by (group, plural) → namespace → name, plus the event log."""

    def __init__(self, *, history: int = 10_000, first_resource_version: int = 1000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._history = history
        self._rv = first_resource_version
        self._objects: dict[StorageKey, dict[str, dict[str, Stored]]] = {}
        # owner uid -> its dependents' places: garbage collection without a full scan
        self._owned: dict[str, set[tuple[StorageKey, str, str]]] = {}
        self._events: list[Event] = []
        # Everything after this revision is still in the log.
        self._compacted = first_resource_version
        self._closed = False

    # --- reads --------------------------------------------------------------------

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def get(self, key: StorageKey, namespace: str, name: str) -> Stored | None:
        with self.lock:
            return self._objects.get(key, {}).get(namespace, {}).get(name)

    def items(self, key: StorageKey, namespace: str | None = None) -> list[Stored]:
        """Objects of one kind, in one namespace or all, sorted as etcd keys sort."""
        with self.lock:
            spaces = self._objects.get(key, {})
            if namespace is not None:
                return [spaces[namespace][n] for n in sorted(spaces.get(namespace, {}))]
            return [spaces[ns][n] for ns in sorted(spaces) for n in sorted(spaces[ns])]

    def count(self, key: StorageKey, namespace: str) -> int:
        with self.lock:
            return len(self._objects.get(key, {}).get(namespace, {}))

    def kinds(self) -> list[StorageKey]:
        with self.lock:
            return list(self._objects)

    def owned_by(self, uid: str) -> list[tuple[StorageKey, Stored]]:
        """Objects with an ownerReference to ``uid``, in key order."""
        with self.lock:
            places = sorted(self._owned.get(uid, ()))
            found = [(key, self.get(key, namespace, name)) for key, namespace, name in places]
            return [(key, stored) for key, stored in found if stored is not None]

    def _index_owners(self, key: StorageKey, stored: Stored | None, *, add: bool) -> None:
        if stored is None:
            return
        place = (key, stored.namespace, stored.name)
        for reference in stored.metadata.get("ownerReferences") or []:
            uid = reference.get("uid")
            if not isinstance(uid, str):
                continue
            if add:
                self._owned.setdefault(uid, set()).add(place)
            elif uid in self._owned:
                self._owned[uid].discard(place)
                if not self._owned[uid]:
                    del self._owned[uid]

    # --- writes (callers hold self.lock for read-modify-write) ---------------------

    def put(self, key: StorageKey, obj: dict[str, Any], *, event: str) -> Stored:
        """Store ``obj`` (taken over, not copied) under the next resourceVersion."""
        with self.lock:
            self._rv += 1
            obj["metadata"]["resourceVersion"] = str(self._rv)
            stored = Stored.of(obj)
            meta = obj["metadata"]
            names = self._objects.setdefault(key, {}).setdefault(meta.get("namespace") or "", {})
            previous = names.get(meta["name"])
            names[meta["name"]] = stored
            self._index_owners(key, previous, add=False)
            self._index_owners(key, stored, add=True)
            self._record(Event(self._rv, event, key, stored, previous))
            return stored

    def remove(self, key: StorageKey, stored: Stored) -> Stored:
        """Delete an object; the DELETED event carries the deletion's revision."""
        with self.lock:
            self._rv += 1
            final = stored.copy()
            final["metadata"]["resourceVersion"] = str(self._rv)
            gone_object = Stored.of(final)
            spaces = self._objects.get(key, {})
            names = spaces.get(stored.namespace, {})
            self._index_owners(key, names.pop(stored.name, None), add=False)
            if not names:
                spaces.pop(stored.namespace, None)
            self._record(Event(self._rv, "DELETED", key, gone_object, stored))
            return gone_object

    def _record(self, event: Event) -> None:
        self._events.append(event)
        if len(self._events) > 2 * self._history:
            dropped = len(self._events) - self._history
            self._compacted = self._events[dropped - 1].resource_version
            del self._events[:dropped]
        self.changed.notify_all()

    def compact(self) -> None:
        """Forget all history, as an etcd compaction does (tests use it for 410s)."""
        with self.lock:
            self._events.clear()
            self._compacted = self._rv

    # --- watch --------------------------------------------------------------------

    def events_after(self, resource_version: int, key: StorageKey) -> list[Event]:
        """Events of ``key`` newer than ``resource_version``; 410 when compacted away."""
        with self.lock:
            if resource_version < self._compacted:
                raise _too_old(resource_version, self._compacted)
            start = self._bisect(resource_version)
            return [event for event in self._events[start:] if event.key == key]

    def _bisect(self, resource_version: int) -> int:
        low, high = 0, len(self._events)
        while low < high:
            middle = (low + high) // 2
            if self._events[middle].resource_version <= resource_version:
                low = middle + 1
            else:
                high = middle
        return low

    def wait_after(self, resource_version: int, deadline: float) -> bool:
        """Block until a write newer than ``resource_version``, the deadline or close."""
        with self.changed:
            while self._rv <= resource_version and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self.changed.wait(min(remaining, 1.0))
            return not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Wake and end every watcher (the server is stopping)."""
        with self.changed:
            self._closed = True
            self.changed.notify_all()

    def reopen(self) -> None:
        with self.lock:
            self._closed = False


def _too_old(requested: int, oldest: int) -> ApiError:
    return gone(f"too old resource version: {requested} ({oldest})")


def iter_raw(records: Iterable[Stored]) -> str:
    return ",".join(record.raw for record in records)


def dumps(value: Any) -> str:
    return _DUMPS(value)
