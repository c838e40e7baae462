"""GitHub webhook signatures (``X-Hub-Signature-256``).

HMAC-SHA256 over the raw body, hex-encoded, prefixed ``sha256=``. Every configured
secret is tried (rotation: old and new secret both valid for a while) and every
comparison is constant-time, so timing reveals neither the signature nor which secret
matched.
"""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def parse_secrets(value: str) -> tuple[bytes, ...]:
    """WEBHOOK_SECRET: one secret, or several separated by commas during a rotation."""
    secrets = tuple(part.strip().encode() for part in value.split(",") if part.strip())
    if not secrets:
        raise ValueError("WEBHOOK_SECRET is empty: set the webhook secret configured on GitHub")
    return secrets


def sign(secret: bytes, body: bytes) -> str:
    return PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secrets: tuple[bytes, ...], body: bytes, header: str | None) -> bool:
    if not header or not header.startswith(PREFIX):
        return False
    offered = header.encode()
    matches = [hmac.compare_digest(sign(secret, body).encode(), offered) for secret in secrets]
    return any(matches)
