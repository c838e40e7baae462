"""control-api's HTTP edge, as functions-framework serves it.

Covers: a body over 64 KiB refused with 413 before it is read; a missing or malformed
REMEDY_API_TOKENS answered 500 ``misconfigured`` (never a crash page, never the
tokens); every token registered with the log redaction filter when the function
starts; JSON answers with the JSON content type.
"""

from __future__ import annotations

import pytest
from werkzeug.test import Client

from remedy import logs
from tests.control import support
from tests.intake.conftest import function_app


def test_oversized_bodies_are_413(control: Client) -> None:
    response = control.post(
        f"/v1/tasks/{support.TASK}/cancellations",
        data=b"x" * (64 * 1024 + 1),
        headers=support.auth("operator:alice"),
    )
    assert response.status_code == 413
    assert response.json["error"] == "payload_too_large"


@pytest.mark.parametrize("tokens", [None, "", "5DLabs-Cleo=short"])
def test_bad_token_configuration_is_500(
    control_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tokens: str | None
) -> None:
    if tokens is None:
        monkeypatch.delenv("REMEDY_API_TOKENS")
    else:
        monkeypatch.setenv("REMEDY_API_TOKENS", tokens)
    response = (
        function_app("control-api")
        .test_client()
        .get(f"/v1/tasks/{support.TASK}", headers=support.auth("operator:alice"))
    )
    assert response.status_code == 500
    assert response.json["error"] == "misconfigured"
    assert "short" not in response.get_data(as_text=True)


def test_tokens_are_registered_for_redaction(control: Client) -> None:
    response = control.get(f"/v1/tasks/{support.TASK}", headers=support.auth("operator:alice"))
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    registered = logs._secrets  # the redaction filter's own set
    assert set(support.TOKENS.values()) <= registered
