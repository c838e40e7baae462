"""control-api's credentials: REMEDY_API_TOKENS parsed, bearer tokens checked.

Covers: principal=token pairs for agents (GitHub logins, ``[bot]`` or not) and operators
(``operator:<name>``), several tokens for one principal; malformed entries, short
tokens, bad principals and one token shared by two principals refused with a message
naming the entry; each token authenticating its own principal and nothing else; a
missing header, another scheme or an empty token authenticating nobody; every known
token compared on every call whichever matches (no early exit), over equal-length
digests; an agent matched case-insensitively with or without ``[bot]``, an operator
never counting as an agent; tokens never in the parsed object's repr.
"""

from __future__ import annotations

import hmac

import pytest

from remedy.handlers.control.auth import (
    Principal,
    Tokens,
    TokensError,
    bearer,
    same_agent,
    token_values,
)

A = "a" * 20
B = "b" * 20
C = "c" * 20
RAW = f"5DLabs-Cleo={A}, 5DLabs-Tess[bot]={B},operator:alice={C}"


def test_parse_and_authenticate_each_principal() -> None:
    tokens = Tokens.parse(RAW)
    assert tokens.authenticate({"Authorization": f"Bearer {A}"}) == Principal(
        "agent", "5DLabs-Cleo"
    )
    assert tokens.authenticate({"authorization": f"bearer {B}"}) == Principal(
        "agent", "5DLabs-Tess[bot]"
    )
    assert tokens.authenticate({"Authorization": f"Bearer  {C} "}) == Principal("operator", "alice")
    assert tokens.authenticate({"Authorization": f"Bearer {'d' * 20}"}) is None


def test_a_principal_may_hold_several_tokens() -> None:
    tokens = Tokens.parse(f"operator:bob={A},operator:bob={B}")
    assert tokens.authenticate({"Authorization": f"Bearer {A}"}) == Principal("operator", "bob")
    assert tokens.authenticate({"Authorization": f"Bearer {B}"}) == Principal("operator", "bob")


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("", "no tokens"),
        (" , ", "no tokens"),
        ("5DLabs-Cleo", "entry 1 is not principal=token"),
        (f"5DLabs-Cleo={A},operator:x", "entry 2 is not principal=token"),
        ("5DLabs-Cleo=short", "shorter than 16"),
        (f"not a login={A}", "not a valid GitHub login"),
        (f"operator:={A}", "operator name"),
        (f"operator:bad name={A}", "operator name"),
        (f"5DLabs-Cleo={A},5DLabs-Tess={A}", "both 5DLabs-Cleo and 5DLabs-Tess"),
    ],
)
def test_malformed_tokens_are_refused(raw: str, complaint: str) -> None:
    with pytest.raises(TokensError, match=complaint):
        Tokens.parse(raw)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer   "},
        {"Authorization": f"Basic {A}"},
        {"Authorization": A},
        {"X-Token": A},
    ],
)
def test_no_usable_bearer_token_is_nobody(headers: dict[str, str]) -> None:
    assert Tokens.parse(RAW).authenticate(headers) is None


@pytest.mark.parametrize("offered", [A, C, "x" * 40, "y"])
def test_every_token_is_compared_on_every_call(offered: str) -> None:
    compared: list[tuple[int, int]] = []

    def compare(known: bytes, given: bytes) -> bool:
        compared.append((len(known), len(given)))
        return hmac.compare_digest(known, given)

    tokens = Tokens.parse(RAW, compare=compare)
    tokens.authenticate({"Authorization": f"Bearer {offered}"})
    assert len(compared) == 3, "no early exit, whichever entry matches"
    assert set(compared) == {(32, 32)}, "digests of equal length, whatever was offered"


def test_tokens_stay_out_of_repr_and_are_listed_for_redaction() -> None:
    tokens = Tokens.parse(RAW)
    assert A not in repr(tokens) and B not in repr(tokens)
    assert token_values(RAW) == [A, B, C]


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        ("5DLabs-Cleo", "5DLabs-Cleo", True),
        ("5dlabs-cleo", "5DLabs-Cleo", True),
        ("5DLabs-Cleo[bot]", "5DLabs-Cleo", True),
        ("5DLabs-Cleo", "5dlabs-CLEO[BOT]", True),
        ("5DLabs-Cleo", "5DLabs-Tess", False),
        ("5DLabs-Cleo", "", False),
        ("", "", False),
    ],
)
def test_same_agent(one: str, other: str, same: bool) -> None:
    assert same_agent(one, other) is same
    assert Principal("agent", one).is_agent(other) is same


def test_an_operator_is_no_agent() -> None:
    assert not Principal("operator", "5DLabs-Cleo").is_agent("5DLabs-Cleo")
    assert Principal("operator", "alice").label == "operator:alice"


def test_bearer() -> None:
    assert bearer({"AUTHORIZATION": "BEARER tok"}) == "tok"
    assert bearer({"Authorization": "Token tok"}) is None
