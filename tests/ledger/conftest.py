"""Fixtures for the ledger tests: a Ledger on the first of the real redis-server masters."""

from __future__ import annotations

import pytest
import redis

from remedy.adapters.redis.ledger import Ledger


@pytest.fixture
def ledger(redis_urls: list[str]) -> Ledger:
    return Ledger.from_urls(redis_urls)


@pytest.fixture
def store(redis_urls: list[str]) -> redis.Redis:
    """Direct access to the ledger's master, to check what was really stored."""
    return redis.Redis.from_url(redis_urls[0])
