"""Fixtures for the metrics tests: the chain's, the reconciler's and control-api's
emulated platform (in-process functions share this process's registry, so a test reads
what moved), and a listener standing in for every outside system.
"""

from __future__ import annotations

from tests.control.conftest import control, control_env, recorder
from tests.intake.conftest import sink
from tests.observability.conftest import listener, unreachable
from tests.reconciler.conftest import (
    api,
    apps,
    clock,
    custom,
    github,
    kube,
    make_reconciler,
    memory_sink,
    platform_env,
    reconciler,
    states,
)

__all__ = [
    "api", "apps", "clock", "control", "control_env", "custom", "github", "kube", "listener",
    "make_reconciler", "memory_sink", "platform_env", "reconciler", "recorder", "sink", "states",
    "unreachable",
]  # fmt: skip
