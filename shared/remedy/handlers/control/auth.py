"""Who is calling control-api: bearer tokens mapped to principals, checked in constant time.

``REMEDY_API_TOKENS`` (from the Secret ``remedy-secrets``) lists ``principal=token``
pairs separated by commas. A principal is an agent's GitHub login (``5DLabs-Cleo``;
``5DLabs-Cleo[bot]`` names the same agent) or ``operator:<name>`` for a person. A
principal may hold several tokens (rotation); one token never names two principals.

How an agent gets its credential: the platform mounts key ``REMEDY_API_TOKEN`` of a
per-agent Secret into the agent's pod; remedy's side lists the same token under the
agent's login in ``REMEDY_API_TOKENS``. The agent sends ``Authorization: Bearer
<token>``.

Why the digests: ``hmac.compare_digest`` is constant-time only for inputs of equal
length, so the offered token and every known token are first hashed to SHA-256 (equal
lengths whatever was offered), and every known token is compared — no early exit — so
timing reveals neither a token, nor its length, nor which entry matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from remedy.domain.identifiers import InvalidIdentifier, validate_login

MIN_TOKEN_LENGTH = 16
"""Shorter tokens are guessable; refuse them at start-up rather than accept them."""

OPERATOR_PREFIX = "operator:"
_OPERATOR = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$", re.IGNORECASE)
_BOT = "[bot]"

Compare = Callable[[bytes, bytes], bool]


class TokensError(ValueError):
    """REMEDY_API_TOKENS is malformed; the message says which entry and why."""


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: an agent (by GitHub login) or an operator (a person)."""

    kind: Literal["agent", "operator"]
    name: str

    @property
    def label(self) -> str:
        """How the caller is named in records: the login, or ``operator:<name>``."""
        return self.name if self.kind == "agent" else OPERATOR_PREFIX + self.name

    def is_agent(self, login: str) -> bool:
        """Whether this caller is the agent ``login`` (case-insensitive, ``[bot]`` or not)."""
        return self.kind == "agent" and same_agent(self.name, login)


def same_agent(one: str, other: str) -> bool:
    return bool(one) and agent_key(one) == agent_key(other)


def agent_key(login: str) -> str:
    """The agent's identity: GitHub compares logins case-insensitively; apps act as ``x[bot]``."""
    folded = login.strip().casefold()
    return folded[: -len(_BOT)] if folded.endswith(_BOT) else folded


def parse_principal(text: str) -> Principal:
    text = text.strip()
    if text.startswith(OPERATOR_PREFIX):
        name = text[len(OPERATOR_PREFIX) :]
        if not _OPERATOR.match(name):
            raise TokensError(f"operator name {name!r} must be 1-63 letters, digits or '._-'")
        return Principal("operator", name)
    try:
        return Principal("agent", validate_login(text))
    except InvalidIdentifier as exc:
        raise TokensError(f"{exc} (use a GitHub login or operator:<name>)") from None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Tokens:
    """The known tokens, kept only as SHA-256 digests, each with its principal."""

    entries: tuple[tuple[bytes, Principal], ...]
    compare: Compare = field(default=hmac.compare_digest, repr=False)

    @classmethod
    def parse(cls, raw: str, *, compare: Compare = hmac.compare_digest) -> Tokens:
        """``principal=token,principal=token``; raises :class:`TokensError` naming the entry."""
        entries: list[tuple[bytes, Principal]] = []
        seen: dict[bytes, Principal] = {}
        for position, part in enumerate((p for p in raw.split(",") if p.strip()), start=1):
            name, sep, token = part.partition("=")
            if not sep:
                raise TokensError(f"entry {position} is not principal=token")
            principal = parse_principal(name)
            token = token.strip()
            if len(token) < MIN_TOKEN_LENGTH:
                raise TokensError(
                    f"the token of {principal.label} is shorter than {MIN_TOKEN_LENGTH} characters"
                )
            digest = _digest(token)
            if seen.get(digest, principal) != principal:
                raise TokensError(f"one token is listed for both {seen[digest].label} and "
                                  f"{principal.label}")  # fmt: skip
            seen[digest] = principal
            entries.append((digest, principal))
        if not entries:
            raise TokensError("no tokens: list principal=token pairs")
        return cls(tuple(entries), compare)

    def authenticate(self, headers: Mapping[str, str]) -> Principal | None:
        """The caller named by ``Authorization: Bearer <token>``, or None."""
        offered = bearer(headers)
        if offered is None:
            return None
        digest = _digest(offered)
        found: Principal | None = None
        for known, principal in self.entries:  # every entry, no early exit
            if self.compare(known, digest):
                found = principal
        return found


def token_values(raw: str) -> list[str]:
    """The token strings of ``raw`` (for the log redaction filter)."""
    return [part.partition("=")[2].strip() for part in raw.split(",") if "=" in part]


def bearer(headers: Mapping[str, str]) -> str | None:
    value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()
