"""The user-facing tools against control-api served over real HTTP on the emulated
platform: control-api's own fixtures (tests/control/conftest.py), reused as they are."""

from __future__ import annotations

from tests.chain.conftest import api, apps, custom, github, kube, platform_env
from tests.control.conftest import cancelling, chain, control, control_env, recorder, served_control
from tests.intake.conftest import sink

__all__ = [
    "api",
    "apps",
    "cancelling",
    "chain",
    "control",
    "control_env",
    "custom",
    "github",
    "kube",
    "platform_env",
    "recorder",
    "served_control",
    "sink",
]
