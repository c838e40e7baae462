"""X-Hub-Signature-256 verification.

Covers: GitHub's documented test vector; rotation (any configured secret verifies);
wrong secret, tampered body, missing header, wrong algorithm prefix and truncated
signatures are refused; WEBHOOK_SECRET parsing (commas, blanks, empty).
"""

from __future__ import annotations

import pytest

from remedy.domain import signatures

# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
VECTOR_SECRET = b"It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_github_documented_test_vector() -> None:
    assert signatures.sign(VECTOR_SECRET, VECTOR_BODY) == VECTOR_SIGNATURE
    assert signatures.verify((VECTOR_SECRET,), VECTOR_BODY, VECTOR_SIGNATURE)


def test_any_secret_of_a_rotation_verifies() -> None:
    secrets = signatures.parse_secrets("old-secret, It's a Secret to Everybody")
    assert signatures.verify(secrets, VECTOR_BODY, VECTOR_SIGNATURE)


@pytest.mark.parametrize(
    ("body", "header"),
    [
        pytest.param(VECTOR_BODY, None, id="missing"),
        pytest.param(VECTOR_BODY, "", id="empty"),
        pytest.param(b"Hello, World?", VECTOR_SIGNATURE, id="tampered-body"),
        pytest.param(VECTOR_BODY, VECTOR_SIGNATURE.replace("sha256=", "sha1="), id="sha1-prefix"),
        pytest.param(VECTOR_BODY, VECTOR_SIGNATURE[:-2], id="truncated"),
        pytest.param(VECTOR_BODY, VECTOR_SIGNATURE.upper(), id="upper-case"),
    ],
)
def test_refused(body: bytes, header: str | None) -> None:
    assert not signatures.verify((VECTOR_SECRET,), body, header)


def test_wrong_secret_refused() -> None:
    assert not signatures.verify((b"another secret",), VECTOR_BODY, VECTOR_SIGNATURE)


@pytest.mark.parametrize("value", ["", " , ,"])
def test_empty_secret_configuration_is_an_error(value: str) -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET is empty"):
        signatures.parse_secrets(value)
