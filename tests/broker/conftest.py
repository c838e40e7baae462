"""Fixtures for the broker tests: scripted subscribers and a running LocalBroker.

The topology is the small one in ``data/topology`` (short backoff, a dead-letter
sink); tests that need a different delivery policy get a copy with their own
``delivery`` block from ``make_broker``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from remedy.local.broker import LocalBroker
from tests.broker.support import SUBSCRIBERS, TOPOLOGY, Subscriber, urls

BrokerFactory = Callable[..., LocalBroker]


@pytest.fixture(scope="session")
def subscriber_servers() -> Iterator[dict[str, Subscriber]]:
    started = {name: Subscriber(name) for name in SUBSCRIBERS}
    yield started
    for subscriber in started.values():
        subscriber.served.stop()


@pytest.fixture
def subscribers(subscriber_servers: dict[str, Subscriber]) -> dict[str, Subscriber]:
    """The subscriber servers, reset: no requests seen, answering 202.

    Servers are shared across tests; a test's broker is stopped (its scheduled retries
    dropped, running deliveries finished) before the next test resets them.
    """
    for subscriber in subscriber_servers.values():
        subscriber.reset()
    return subscriber_servers


@pytest.fixture
def broker(subscribers: dict[str, Subscriber]) -> Iterator[LocalBroker]:
    running = LocalBroker(TOPOLOGY, urls(subscribers)).start()
    yield running
    running.stop()


@pytest.fixture
def make_broker(tmp_path: Path, subscribers: dict[str, Subscriber]) -> Iterator[BrokerFactory]:
    """A broker on a copy of the topology whose Broker has the given ``delivery``."""
    started: list[LocalBroker] = []

    def make(delivery: dict[str, Any] | None, **overrides: str) -> LocalBroker:
        directory = tmp_path / f"topology-{len(started)}"
        shutil.copytree(TOPOLOGY, directory)
        manifest = yaml.safe_load((directory / "broker.yaml").read_text())
        if delivery is None:
            manifest["spec"].pop("delivery")
        else:
            manifest["spec"]["delivery"] = delivery
        (directory / "broker.yaml").write_text(yaml.safe_dump(manifest))
        running = LocalBroker(directory, {**urls(subscribers), **overrides}).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
