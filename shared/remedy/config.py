"""Settings from the environment (Knative env from the remedy-config ConfigMap/Secret).

Each function reads only what it needs, through these parsers, so a missing or
malformed variable fails at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from remedy.adapters.redis_nodes import parse_redis_urls
from remedy.domain.branches import DEFAULT_TASK_BRANCH_PATTERN, TaskBranchPattern
from remedy.domain.identifiers import InvalidIdentifier, LoginSet
from remedy.domain.signatures import parse_secrets

DEFAULT_IMPLEMENTATION_AGENTS = "5DLabs-Rex,5DLabs-Rex[bot]"


class ConfigError(ValueError):
    pass


def _get(env: Mapping[str, str] | None, name: str, default: str | None = None) -> str:
    value = (env if env is not None else os.environ).get(name, default)
    if value is None or not value.strip():
        raise ConfigError(f"{name} is not set")
    return value.strip()


def webhook_secrets(env: Mapping[str, str] | None = None) -> tuple[bytes, ...]:
    return parse_secrets(_get(env, "WEBHOOK_SECRET"))


def sink_url(env: Mapping[str, str] | None = None) -> str:
    """K_SINK: where a source sends events (injected by a Knative SinkBinding)."""
    return _get(env, "K_SINK")


def redis_urls(env: Mapping[str, str] | None = None) -> list[str]:
    """REDIS_URLS: independent masters, comma-separated (1 for development, 3+ odd)."""
    try:
        return parse_redis_urls(_get(env, "REDIS_URLS"))
    except ValueError as exc:
        raise ConfigError(f"REDIS_URLS: {exc}") from exc


def implementation_agents(env: Mapping[str, str] | None = None) -> LoginSet:
    raw = _get(env, "REMEDY_IMPLEMENTATION_AGENTS", DEFAULT_IMPLEMENTATION_AGENTS)
    try:
        return LoginSet(raw.split(","))
    except InvalidIdentifier as exc:
        raise ConfigError(f"REMEDY_IMPLEMENTATION_AGENTS: {exc}") from exc


def task_branch_pattern(env: Mapping[str, str] | None = None) -> TaskBranchPattern:
    raw = _get(env, "REMEDY_TASK_BRANCH_PATTERN", DEFAULT_TASK_BRANCH_PATTERN)
    try:
        return TaskBranchPattern.compile(raw)
    except ValueError as exc:
        raise ConfigError(f"REMEDY_TASK_BRANCH_PATTERN: {exc}") from exc
