"""Watching remedy's effects on a running harness, and counting what they cost.

The end-to-end benchmarks (bench_remediation, bench_feedback) time each effect by the
moment its watch event arrives (``ObjectWatch``), count the requests remedy made of
the emulated Kubernetes and GitHub APIs (``kube_stats``, ``reset_api_stats``), and
charge the CPU the platform's processes used (``platform_cpu_seconds``).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import requests

from tests.chaos.harness import Harness, checked
from tests.support.cpu import cpu_seconds


class ObjectWatch:
    """One namespaced custom resource, kept current from a Kubernetes watch.

    The benchmarks time remedy's effects by the moment the watch event for each arrives
    (no polling, so no poll granularity and no extra API requests while they run). A
    watch is one request when it opens; its events add none, so the emulator's request
    counts around a batch stay remedy's own.
    """

    def __init__(self, harness: Harness, resource: tuple[str, str, str], namespace: str) -> None:
        self._custom = harness.custom
        self._args = (*resource[:2], namespace, resource[2])
        self._changed = threading.Condition()
        self.objects: dict[str, dict[str, Any]] = {}
        self.added: dict[str, float] = {}
        """time.monotonic() of each name's first ADDED event (after the initial list)."""
        self.deleted: dict[str, float] = {}
        """time.monotonic() of each name's DELETED event."""
        self.changed_at: dict[str, float] = {}
        """time.monotonic() of each name's latest event."""
        self.last_event = time.monotonic()
        self._stop = threading.Event()
        self._response: Any = None
        self._expired = False
        self._version = ""
        self._relist()
        self._thread = threading.Thread(target=self._run, daemon=True, name="object-watch")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._response = self._custom.list_namespaced_custom_object(
                    *self._args,
                    watch=True,
                    resource_version=self._version,
                    timeout_seconds=3600,
                    _preload_content=False,
                )
                buffer = b""
                for chunk in self._response.stream(amt=None, decode_content=False):
                    now = time.monotonic()
                    buffer += chunk
                    *lines, buffer = buffer.split(b"\n")
                    events = [json.loads(line) for line in lines if line.strip()]
                    with self._changed:
                        for event in events:
                            self._apply(event, now)
                        self._changed.notify_all()
            except Exception:
                # closed by stop(), a dropped stream (reopen where it left off) or a
                # 410 for a compacted version (list again)
                if self._stop.wait(0.05):
                    return
                if self._expired:
                    self._relist()

    def _relist(self) -> None:
        listing: Any = self._custom.list_namespaced_custom_object(*self._args)
        with self._changed:
            self._version = str(listing["metadata"]["resourceVersion"])
            self.objects = {item["metadata"]["name"]: item for item in listing["items"]}
            self._expired = False

    def _apply(self, event: dict[str, Any], now: float) -> None:
        obj = event["object"]
        if event["type"] == "ERROR":
            self._expired = True
            raise RuntimeError(f"watch of {self._args}: {obj}")
        self._version = str(obj["metadata"]["resourceVersion"])
        name = obj["metadata"]["name"]
        if event["type"] == "DELETED":
            self.objects.pop(name, None)
            self.deleted[name] = now
        else:
            if event["type"] == "ADDED":
                self.added.setdefault(name, now)
            self.objects[name] = obj
        self.changed_at[name] = self.last_event = now

    def wait(self, predicate: Callable[[ObjectWatch], bool], *, timeout: float) -> bool:
        """Whether ``predicate(self)`` held within ``timeout`` (re-checked on each event)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def quiet(self, *, for_s: float, timeout: float) -> None:
        """Wait until no event arrived for ``for_s`` (others' writes have settled)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.last_event < for_s and time.monotonic() < deadline:
            time.sleep(for_s / 4)  # waiting for the absence of events: nothing to wake on

    def stop(self) -> None:
        self._stop.set()
        if self._response is not None:
            with contextlib.suppress(Exception):
                self._response.shutdown()
        self._thread.join(timeout=5)


def kube_stats(harness: Harness) -> dict[str, int]:
    """The Kubernetes emulator's request counts per ``"<verb> <resource>"`` and total."""
    url, token, ca = harness.kube_admin()
    response = requests.get(
        f"{url}/_emulator/stats",
        verify=ca,
        timeout=10,
        headers={"Authorization": f"Bearer {token}"},
    )
    counts: dict[str, int] = checked(response)["requests"]
    return counts


def reset_api_stats(harness: Harness) -> None:
    """Zero both emulators' request counts (admin calls are not counted themselves)."""
    url, token, ca = harness.kube_admin()
    checked(
        requests.delete(
            f"{url}/_emulator/stats",
            verify=ca,
            timeout=10,
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    checked(
        requests.delete(
            f"{harness.state['github_api_url']}/_emulator/stats",
            timeout=10,
            headers={"Authorization": f"token {harness.state['github_admin_token']}"},
        )
    )


def platform_cpu_seconds(harness: Harness) -> dict[str, float]:
    """CPU seconds used so far by each process the platform started, and by this one.

    A process's children count with it (gunicorn's worker under each function). This
    process (``"benchmark"``) holds the broker and the benchmark's own threads. Linux
    only (/proc).
    """
    seconds = {name: cpu_seconds(pid) for name, pid in harness.platform.pids().items()}
    seconds["benchmark"] = time.process_time()
    return seconds
