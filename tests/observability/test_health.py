"""``GET /healthz`` on every function, as functions-framework serves it.

Covers, for every function:
- 200 once its configuration parsed, with every outside system it would use (Redis,
  the Kubernetes API, GitHub, the broker) pointed at a port that accepts connections
  and never answers: the probe opens no connection to any of them, and answers fast;
- 503 naming the variable when its configuration is bad (a required variable missing,
  a malformed one), the same error a request would meet, logged once however often
  Knative probes; once the configuration is fixed the probe answers 200;
- only GET (and HEAD) on the probe path; a probe neither logs a line nor makes a span.
"""

from __future__ import annotations

import logging
import time

import pytest

from remedy.handlers.common import health
from tests.knative.support import FUNCTIONS
from tests.observability.support import Listener, serve

ALL_SETTINGS = ("REDIS_URLS", "KUBECONFIG", "GITHUB_API_URL", "GITHUB_TOKEN", "K_SINK",
                "WEBHOOK_SECRET", "REMEDY_API_TOKENS")  # fmt: skip


@pytest.mark.parametrize("function", FUNCTIONS)
def test_healthy_without_calling_anything(
    function: str, unreachable: dict[str, str], listener: Listener
) -> None:
    client = serve(function)
    started = time.monotonic()
    for _ in range(3):
        answer = client.get(health.HEALTH_PATH)
        assert answer.status_code == 200, answer.get_data(as_text=True)
        assert answer.get_json() == {"status": "ok", "function": function}
    assert time.monotonic() - started < 2.0
    assert client.head(health.HEALTH_PATH).status_code == 200
    time.sleep(0.1)  # a connection attempt would have landed by now
    assert listener.accepted == 0, f"{function}'s probe called out"


def _required(function: str) -> tuple[str, str]:
    """A variable ``function`` cannot start without, and a malformed value for it."""
    if function == "webhook-gateway":
        return "WEBHOOK_SECRET", " , "
    if function == "control-api":
        return "REMEDY_API_TOKENS", "no-equals-sign"
    return "REDIS_URLS", "http://not-redis:6379"


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("broken", ["missing", "malformed"])
def test_misconfigured_answers_503_naming_the_variable(
    function: str,
    broken: str,
    unreachable: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    health._reported.clear()  # once per process: this test's process has seen others
    variable, bad = _required(function)
    if broken == "missing":
        monkeypatch.delenv(variable)
    else:
        monkeypatch.setenv(variable, bad)
    client = serve(function)
    caplog.set_level(logging.INFO)
    for _ in range(3):
        answer = client.get(health.HEALTH_PATH)
        assert answer.status_code == 503
        body = answer.get_json()
        assert body["status"] == "misconfigured" and variable in body["message"], body
    reported = [r for r in caplog.records if r.name == "remedy.health"]
    assert len(reported) == 1 and variable in reported[0].getMessage()
    assert reported[0].levelno == logging.ERROR
    monkeypatch.setenv(variable, unreachable[variable])
    assert client.get(health.HEALTH_PATH).status_code == 200


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_probe_is_quiet_and_takes_only_get(
    function: str, unreachable: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    client = serve(function)
    caplog.set_level(logging.DEBUG)
    assert client.get(health.HEALTH_PATH).status_code == 200
    assert client.get(health.HEALTH_PATH + "/").status_code == 200
    assert [r for r in caplog.records if r.name.startswith("remedy")] == []
    answer = client.post(health.HEALTH_PATH, data=b"{}")
    assert answer.status_code == 405
    assert answer.get_json()["error"] == "method_not_allowed"
