"""Reading GitHub's error answers (a pure function, table-driven).

Behaviours covered:
- 5xx are retryable failures, carrying ``Retry-After`` when given;
- 403/429 with ``x-ratelimit-remaining: 0`` are the primary limit, waiting until
  ``x-ratelimit-reset`` (at least 1 s; a longer ``Retry-After`` wins);
- 403/429 with ``Retry-After`` or a secondary-limit message, and any bare 429, are a
  secondary limit (default wait 60 s);
- other 4xx (401, plain 403, 404, 422) are final refusals with GitHub's message;
- junk header values are ignored rather than trusted.
"""

from __future__ import annotations

import pytest

from remedy.adapters.github.answers import Failed, Limited, Problem, Refused, classify
from remedy.local.emulators.github.ratelimit import SECONDARY_MESSAGE

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (502, {}, {"message": "Bad Gateway"}, Failed("GitHub answered 502: Bad Gateway")),
        (503, {"retry-after": "5"}, None, Failed("GitHub answered 503: no message", 5.0)),
        (500, {}, {"data": "<html>oops"}, Failed("GitHub answered 500: <html>oops")),
        (
            403,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 120)},
            {"message": "API rate limit exceeded for user ID 1."},
            Limited(
                "primary rate limit exhausted: API rate limit exceeded for user ID 1.", 120.0, False
            ),
        ),
        (
            429,
            {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 5)},
            {"message": "API rate limit exceeded"},
            Limited("primary rate limit exhausted: API rate limit exceeded", 1.0, False),
        ),
        (
            403,
            {
                "x-ratelimit-remaining": "0",
                "x-ratelimit-reset": str(int(NOW) + 10),
                "retry-after": "90",
            },
            {"message": "m"},
            Limited("primary rate limit exhausted: m", 90.0, False),
        ),
        (
            403,
            {"retry-after": "30", "x-ratelimit-remaining": "4000"},
            {"message": SECONDARY_MESSAGE},
            Limited(f"secondary rate limit: {SECONDARY_MESSAGE}", 30.0, True),
        ),
        (
            403,
            {},
            {"message": SECONDARY_MESSAGE},
            Limited(f"secondary rate limit: {SECONDARY_MESSAGE}", 60.0, True),
        ),
        (
            429,
            {},
            {"message": "Too Many Requests"},
            Limited("secondary rate limit: Too Many Requests", 60.0, True),
        ),
        (403, {"retry-after": "soon"}, {"message": "Forbidden"}, Refused(403, "Forbidden")),
        (401, {}, {"message": "Bad credentials"}, Refused(401, "Bad credentials")),
        (404, {}, {"message": "Label does not exist"}, Refused(404, "Label does not exist")),
        (422, {}, {"message": "Validation Failed"}, Refused(422, "Validation Failed")),
        (422, {}, ["not", "an", "object"], Refused(422, "no message")),
    ],
)
def test_classify(status: int, headers: dict[str, str], body: object, expected: Problem) -> None:
    assert classify(status, headers, body, now=NOW) == expected
