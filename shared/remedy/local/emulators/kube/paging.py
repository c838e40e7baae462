"""List pagination: ``limit`` and the opaque ``continue`` token.

The token has the real server's shape (base64 JSON with ``v``, ``rv`` and ``start``);
a page resumes at the ``start`` key of the current state rather than at a snapshot
of the first page's revision, which is enough for clients that page through once.
"""

from __future__ import annotations

import base64
import binascii
import json

from remedy.local.emulators.kube import errors


def encode(rv: int, start: tuple[str, str]) -> str:
    token = json.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": "/".join(start)})
    return base64.urlsafe_b64encode(token.encode()).decode()


def decode(token: str) -> tuple[str, str]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, _, name = str(decoded["start"]).partition("/")
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion "
            "(version meta.k8s.io/v1)"
        ) from None
    return (namespace, name)
