"""Fixtures for the intake functions: a recording sink, signed webhook requests, the apps."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import flask
import pytest
from functions_framework import create_app

from remedy.domain.signatures import sign
from remedy.local.http_server import ServedApp, serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-webhook-secret"


def function_app(name: str) -> flask.Flask:
    """The function exactly as functions-framework serves it (http signature)."""
    return create_app(target="handle", source=str(ROOT / "functions" / name / "main.py"))


@dataclass
class RecordingSink:
    """A broker ingress stand-in: records every request and answers ``status``."""

    status: int = 202
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length)
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        headers["content-type"] = environ.get("CONTENT_TYPE", "")
        with self.lock:
            self.requests.append((headers, body))
        start_response(f"{self.status} X", [("Content-Length", "0")])
        return [b""]


@pytest.fixture
def sink() -> Iterator[tuple[RecordingSink, ServedApp]]:
    recorder = RecordingSink()
    served = serve_in_thread(recorder)  # type: ignore[arg-type]
    yield recorder, served
    served.stop()


def signed_headers(
    body: bytes, *, event: str, delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
) -> dict[str, str]:
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": sign(SECRET.encode(), body),
        "Content-Type": "application/json",
    }


def load_payload(reference_dir: Path, name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((reference_dir / "github-webhooks" / name).read_text())
    return data
