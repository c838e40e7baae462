"""Watch: the kubernetes client's Watch().stream and the raw chunked protocol.

Covers: a watch without resourceVersion starting with synthetic ADDED events for what
exists (api-concepts "Efficient detection of changes"), then MODIFIED and DELETED as
objects change; a watch from a resourceVersion replaying only later changes; a
compacted resourceVersion answered with an ERROR event carrying 410 Expired "too old
resource version", which the client raises; label-selected watches turning an
update that leaves or enters the selection into DELETED or ADDED; BOOKMARK events
and the ``k8s.io/initial-events-end`` bookmark; ``timeoutSeconds``; the stream being
chunked JSON lines; stopping the emulator or the client leaving ending the watch.
"""

from __future__ import annotations

import json
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client, watch
from kubernetes.client import ApiException

from remedy.local.emulators.kube import KubeEmulator
from tests.emulators.kube.support import GROUP, PLURAL, POLL_S, VERSION, Http, coderun
from tests.support.waiting import eventually

CODERUN = "agents.platform/v1", "CodeRun"


class Collector:
    """Runs a client watch in a thread; tests read its events with a deadline."""

    def __init__(self, start: Callable[[watch.Watch], Iterator[dict[str, Any]]]) -> None:
        self.events: queue.Queue[dict[str, Any] | BaseException] = queue.Queue()
        self.watch = watch.Watch()
        self.thread = threading.Thread(target=self._run, args=(start,), daemon=True)
        self.thread.start()

    def _run(self, start: Callable[[watch.Watch], Iterator[dict[str, Any]]]) -> None:
        try:
            for event in start(self.watch):
                self.events.put(event)
        except BaseException as error:  # handed to the test thread
            self.events.put(error)

    def take(self, count: int, timeout: float = 10) -> list[tuple[str, str]]:
        taken = []
        deadline = time.monotonic() + timeout
        while len(taken) < count:
            item = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if isinstance(item, BaseException):
                raise item
            taken.append((item["type"], item["object"]["metadata"]["name"]))
        return taken

    def stop(self) -> None:
        self.watch.stop()


def _coderuns(
    watcher: watch.Watch, custom: client.CustomObjectsApi, **query: Any
) -> Iterator[dict[str, Any]]:
    """``watcher`` streaming the CodeRuns of ``default`` through the official client."""
    stream: Iterator[dict[str, Any]] = watcher.stream(
        custom.list_namespaced_custom_object, GROUP, VERSION, "default", PLURAL, **query
    )
    return stream


def _watching(kube: KubeEmulator, count: int = 1) -> bool:
    return kube.stats.snapshot().get("watch coderuns", 0) >= count


def _resource(kube: KubeEmulator) -> Any:
    return kube.cluster.resource(*CODERUN)


def test_stream_starts_with_what_exists_then_follows(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.apply(coderun("first"))
    events = Collector(lambda w: _coderuns(w, custom, timeout_seconds=20))
    try:
        assert events.take(1) == [("ADDED", "first")]
        kube.apply(coderun("second"))
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, "default", PLURAL, "first", {"status": {"phase": "Running"}}
        )
        kube.cluster.delete(_resource(kube), "default", "second")
        assert events.take(3) == [("ADDED", "second"), ("MODIFIED", "first"), ("DELETED", "second")]
    finally:
        events.stop()


def test_stream_from_resource_version_replays_later_changes(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    before = kube.apply(coderun("old"))["metadata"]["resourceVersion"]
    kube.apply(coderun("new"))
    stream = _coderuns(watch.Watch(), custom, resource_version=before, timeout_seconds=1)
    assert [(event["type"], event["object"]["metadata"]["name"]) for event in stream] == [
        ("ADDED", "new")
    ]


def test_too_old_resource_version_is_410(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    """Once history is compacted, the watch opens and carries one ERROR event with a
    410 Status, which clients answer by listing again (api-concepts "410 Gone")."""
    old = kube.apply(coderun("a"))["metadata"]["resourceVersion"]
    kube.apply(coderun("b"))
    kube.store.compact()
    stream = _coderuns(watch.Watch(), custom, resource_version=old, timeout_seconds=5)
    with pytest.raises(ApiException) as expired:
        list(stream)
    assert expired.value.status == 410
    assert f"too old resource version: {old}" in str(expired.value.reason)


def test_selection_changes_become_added_and_deleted(
    kube: KubeEmulator, custom: client.CustomObjectsApi
) -> None:
    kube.apply(coderun("moving"))
    events = Collector(
        lambda w: _coderuns(w, custom, label_selector="stage=qa", timeout_seconds=20)
    )
    try:
        eventually(lambda: _watching(kube), every=POLL_S, what="the watch to open")
        for stage in ("qa", "dev", "qa"):
            custom.patch_namespaced_custom_object(
                GROUP,
                VERSION,
                "default",
                PLURAL,
                "moving",
                {"metadata": {"labels": {"stage": stage}}},
            )
        assert events.take(3) == [("ADDED", "moving"), ("DELETED", "moving"), ("ADDED", "moving")]
    finally:
        events.stop()


def _raw_events(http: Http, query: str, count: int) -> tuple[dict[str, str], list[dict[str, Any]]]:
    response = http(
        "GET",
        f"/apis/agents.platform/v1/namespaces/default/coderuns?watch=true&{query}",
        stream=True,
    )
    events = []
    for line in response.iter_lines():
        if line:
            events.append(json.loads(line))
        if len(events) >= count:
            break
    response.close()
    return dict(response.headers), events


def test_raw_stream_is_chunked_json_lines(kube: KubeEmulator, http: Http) -> None:
    kube.apply(coderun("raw"))
    headers, events = _raw_events(http, "timeoutSeconds=5", 1)
    assert headers["Transfer-Encoding"] == "chunked"
    assert headers["Content-Type"] == "application/json"
    assert events[0]["type"] == "ADDED"
    assert events[0]["object"]["kind"] == "CodeRun"


def test_bookmarks(kube: KubeEmulator, http: Http) -> None:
    current = kube.store.resource_version
    _, events = _raw_events(
        http, f"resourceVersion={current}&allowWatchBookmarks=true&timeoutSeconds=10", 1
    )
    assert events[0]["type"] == "BOOKMARK"
    assert int(events[0]["object"]["metadata"]["resourceVersion"]) >= current
    kube.apply(coderun("x"))
    _, initial = _raw_events(
        http, "sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan", 2
    )
    assert [event["type"] for event in initial] == ["ADDED", "BOOKMARK"]
    assert initial[1]["object"]["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}


def test_timeout_ends_the_stream(http: Http) -> None:
    """The server ends the stream at ``timeoutSeconds``, not before. Had it kept the
    stream open (the default is 30 minutes), the silent stream would have failed the
    request at ``Http``'s 10 s read timeout: the deadline is the client's, not a clock
    this test reads."""
    started = time.monotonic()
    answer = http(
        "GET", "/apis/agents.platform/v1/namespaces/default/coderuns?watch=1&timeoutSeconds=1"
    )
    assert answer.status_code == 200 and answer.text == ""
    assert time.monotonic() - started >= 1


def test_stopping_the_emulator_ends_watches() -> None:
    kube = KubeEmulator(tls=False).start()
    events = Collector(
        lambda w: _coderuns(w, client.CustomObjectsApi(kube.api_client()), timeout_seconds=60)
    )
    eventually(lambda: _watching(kube), every=POLL_S, what="the watch to open")
    kube.stop()
    events.thread.join(timeout=10)
    assert not events.thread.is_alive()


def test_a_client_leaving_ends_its_watch(kube: KubeEmulator) -> None:
    baseline = threading.active_count()
    host, port = kube.url.split("//")[1].split(":")
    context = ssl.create_default_context(cadata=(kube.ca_pem or b"").decode())
    raw = context.wrap_socket(socket.create_connection((host, int(port))), server_hostname=host)
    raw.sendall(
        f"GET /apis/agents.platform/v1/namespaces/default/coderuns?watch=true HTTP/1.1\r\n"
        f"Host: {host}\r\nAuthorization: Bearer {kube.token}\r\n\r\n".encode()
    )
    assert raw.recv(1024).startswith(b"HTTP/1.1 200")
    assert threading.active_count() > baseline
    raw.close()
    eventually(
        lambda: threading.active_count() <= baseline,
        timeout=10,
        every=POLL_S,
        what="the watch's thread to end",
        describe=lambda: f"{threading.active_count()} threads, {baseline} before",
    )
