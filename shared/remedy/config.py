"""Settings from the environment (Knative env from the remedy-config ConfigMap/Secret).

Each function reads only what it needs, through these parsers, so a missing or
malformed variable fails at start-up with a message naming the variable.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from remedy.domain.branches import DEFAULT_TASK_BRANCH_PATTERN, TaskBranchPattern
from remedy.domain.identifiers import InvalidIdentifier, LoginSet
from remedy.domain.signatures import parse_secrets
from remedy.redis_urls import parse_redis_urls

DEFAULT_IMPLEMENTATION_AGENTS = "5DLabs-Rex,5DLabs-Rex[bot]"
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


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


DEFAULT_DOWNSTREAM_AGENTS = "5DLabs-Cleo,5DLabs-Tess"


def logins(env: Mapping[str, str] | None, name: str, default: str) -> LoginSet:
    try:
        return LoginSet(_get(env, name, default).split(","))
    except InvalidIdentifier as exc:
        raise ConfigError(f"{name}: {exc}") from exc


def downstream_agents(env: Mapping[str, str] | None = None) -> LoginSet:
    return logins(env, "REMEDY_DOWNSTREAM_AGENTS", DEFAULT_DOWNSTREAM_AGENTS)


def _names(env: Mapping[str, str] | None, name: str, default: str) -> list[str]:
    values = [part.strip() for part in _get(env, name, default).split(",") if part.strip()]
    bad = [v for v in values if not _DNS_LABEL.match(v)]
    if bad or not values:
        raise ConfigError(f"{name}: {bad or values} are not Kubernetes namespace names")
    return values


def coderun_namespaces(env: Mapping[str, str] | None = None) -> list[str]:
    return _names(env, "REMEDY_CODERUN_NAMESPACES", "agent-platform")


def workflow_namespace(env: Mapping[str, str] | None = None) -> str:
    return _names(env, "REMEDY_WORKFLOW_NAMESPACE", "argo")[0]


def state_namespace(env: Mapping[str, str] | None = None) -> str:
    return _names(env, "REMEDY_STATE_NAMESPACE", "remedy")[0]


def _number(env: Mapping[str, str] | None, name: str, default: str, *, low: float) -> float:
    raw = _get(env, name, default)
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number") from None
    if value < low:
        raise ConfigError(f"{name}={raw!r} must be at least {low}")
    return value


def cancel_grace_seconds(env: Mapping[str, str] | None = None) -> float:
    return _number(env, "REMEDY_CANCEL_GRACE_SECONDS", "30", low=0)


def max_iterations(env: Mapping[str, str] | None = None) -> int:
    return int(_number(env, "REMEDY_MAX_ITERATIONS", "10", low=1))


def label_list(env: Mapping[str, str] | None, name: str, default: str) -> tuple[str, ...]:
    labels = tuple(part.strip() for part in _get(env, name, default).split(",") if part.strip())
    if any(len(label) > 50 for label in labels):
        raise ConfigError(f"{name}: GitHub label names are at most 50 characters")
    return labels


def kubeconfig(env: Mapping[str, str] | None = None) -> str | None:
    value = (env if env is not None else os.environ).get("KUBECONFIG", "").strip()
    return value or None


def ledger_lease_seconds(env: Mapping[str, str] | None = None) -> float:
    """How long a step's ledger claim lasts without progress before it is presumed
    crashed and taken over (REMEDY_LEDGER_LEASE_SECONDS)."""
    return _number(env, "REMEDY_LEDGER_LEASE_SECONDS", "30", low=0.1)


def redis_node_timeout_seconds(env: Mapping[str, str] | None = None) -> float:
    """Per-master timeout of lock traffic (REMEDY_REDIS_NODE_TIMEOUT_SECONDS): far below
    any lock TTL; raise it where Redis answers slowly (a CPU-starved machine)."""
    return _number(env, "REMEDY_REDIS_NODE_TIMEOUT_SECONDS", "0.05", low=0.005)
