"""remedy's log lines: JSON with REMEDY_LOG_FORMAT=json, text otherwise, secrets masked.

Covers:
- a JSON line is one object on one line with time (UTC, ISO 8601), level, function,
  delivery id, trace id, task, epoch, logger and message, in that order; a traceback
  is an ``exception`` field of the same line; fields nobody set are null;
- the fields come from the step's context: nested contexts refine, ``bind`` adds the
  task and epoch, leaving a context restores what was there; untrusted task and epoch
  values that are not numbers are dropped;
- registered secrets are masked in JSON and text lines: in the message, its arguments
  and in tracebacks;
- text lines carry the delivery and trace ids; a malformed REMEDY_LOG_FORMAT fails the
  function at start-up naming the variable;
- real processes (functions-framework, as Knative runs them) with REMEDY_LOG_FORMAT=json:
  every line webhook-gateway and push-intake print parses, and the lines of one
  delivery carry its delivery id and trace id; push-intake's reply line names the task
  and the epoch it admitted.
"""

from __future__ import annotations

import io
import json
import logging
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from remedy import logs
from remedy.events import tracing
from remedy.local import functions
from tests.intake.conftest import SECRET, RecordingSink, signed_headers
from tests.observability.support import FunctionProcess, start_function
from tests.support.events import push_event

BEFORE, AFTER = "a" * 40, "b" * 40


@pytest.fixture
def capture() -> Iterator[tuple[logging.Logger, io.StringIO, io.StringIO]]:
    """A logger writing through remedy's JSON and text handlers into two buffers."""
    json_out, text_out = io.StringIO(), io.StringIO()
    logger = logging.getLogger("remedy.test.observability")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handlers = [logs.handler(json_out, fmt="json"), logs.handler(text_out, fmt="text")]
    for handler in handlers:
        logger.addHandler(handler)
    yield logger, json_out, text_out
    for handler in handlers:
        logger.removeHandler(handler)


def parsed(out: io.StringIO) -> list[dict[str, Any]]:
    lines = out.getvalue().splitlines()
    return [json.loads(line) for line in lines]


def test_a_json_line_has_every_field(
    capture: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, json_out, _ = capture
    with (
        logs.context(function="push-intake", delivery="d-1", trace_id="ab" * 16),
        logs.context(task="12", epoch="1700000000000001"),
    ):
        logger.info("reply %s", "x")
    (line,) = parsed(json_out)
    assert list(line) == list(logs.JSON_FIELDS)
    assert line == {
        "time": line["time"],
        "level": "INFO",
        "function": "push-intake",
        "delivery_id": "d-1",
        "trace_id": "ab" * 16,
        "task": 12,
        "epoch": 1700000000000001,
        "logger": "remedy.test.observability",
        "message": "reply x",
    }
    assert line["time"].endswith("Z")
    assert datetime.fromisoformat(line["time"].replace("Z", "+00:00")).tzinfo is not None


def test_unset_fields_are_null_and_contexts_unwind(
    capture: tuple[logging.Logger, io.StringIO, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, json_out, _ = capture
    monkeypatch.delenv("K_SERVICE", raising=False)
    logger.info("outside")
    with logs.context(function="agent-cancel", delivery="d-2", task="not-a-number"):
        logs.bind(task=7, epoch=-1)  # a negative epoch is no epoch
        logger.info("bound")
        with logs.context(delivery="d-3", trace_id="cd" * 16):
            logger.info("nested")
        logger.info("back")
    logger.info("after")
    outside, bound, nested, back, after = parsed(json_out)
    keys = ("function", "delivery_id", "trace_id", "task", "epoch")
    assert [outside[k] for k in keys] == [None] * 5 == [after[k] for k in keys]
    assert [bound[k] for k in keys] == ["agent-cancel", "d-2", None, 7, None]
    assert [nested[k] for k in keys] == ["agent-cancel", "d-3", "cd" * 16, 7, None]
    assert [back[k] for k in keys] == [bound[k] for k in keys]


def test_outside_a_request_the_function_is_the_knative_service(
    capture: tuple[logging.Logger, io.StringIO, io.StringIO], monkeypatch: pytest.MonkeyPatch
) -> None:
    logger, json_out, _ = capture
    monkeypatch.setenv("K_SERVICE", "reconciler")
    logger.warning("starting")
    assert parsed(json_out)[0]["function"] == "reconciler"


def test_secrets_are_masked_in_json_and_text(
    capture: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, json_out, text_out = capture
    secret = "s3cr3t-token-for-the-log-test"
    logs.register_secret(secret)
    with logs.context(function="control-api", delivery="d-9"):
        logger.info("token %s in an argument", secret)
        logger.info(f"token {secret} in the message")
        try:
            raise RuntimeError(f"a failure quoting {secret}")
        except RuntimeError:
            logger.exception("failed with %r", {"Authorization": f"Bearer {secret}"})
    for out in (json_out, text_out):
        assert secret not in out.getvalue()
        assert out.getvalue().count("***") >= 4
    lines = parsed(json_out)
    assert len(lines) == 3, "one line per record, the traceback inside it"
    assert "RuntimeError: a failure quoting ***" in lines[2]["exception"]
    assert lines[0]["message"] == "token *** in an argument"


def test_text_lines_carry_the_delivery_and_the_trace(
    capture: tuple[logging.Logger, io.StringIO, io.StringIO],
) -> None:
    logger, _, text_out = capture
    logger.info("before")
    with logs.context(delivery="d-5", trace_id="ef" * 16):
        logger.info("within")
    before, within = text_out.getvalue().splitlines()
    assert "[- -] remedy.test.observability: before" in before
    assert f"[d-5 {'ef' * 16}] remedy.test.observability: within" in within


@pytest.mark.parametrize(("value", "chosen"), [(None, "text"), ("json", "json"), (" JSON ", "json"),
                                                ("text", "text"), ("", "text")])  # fmt: skip
def test_the_format_variable(value: str | None, chosen: str) -> None:
    env = {} if value is None else {"REMEDY_LOG_FORMAT": value}
    assert logs.log_format(env) == chosen


def test_a_malformed_format_fails_the_function_at_start_up(tmp_path: Path) -> None:
    env = {"REMEDY_LOG_FORMAT": "xml", "PATH": "/usr/bin:/bin"}
    script = (
        "from functions_framework import create_app; "
        f"create_app(target='handle', source={str(functions.source('push-intake'))!r})"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60,
        check=False, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode != 0
    assert "REMEDY_LOG_FORMAT must be text or json, not 'xml'" in result.stderr


@pytest.fixture
def json_functions(
    tmp_path: Path, redis_urls: list[str], sink: tuple[RecordingSink, Any]
) -> Iterator[tuple[FunctionProcess, FunctionProcess]]:
    _, served = sink
    env = {"REMEDY_LOG_FORMAT": "json", "REDIS_URLS": ",".join(redis_urls)}
    gateway = start_function(
        "webhook-gateway", {**env, "WEBHOOK_SECRET": SECRET, "K_SINK": served.url}, tmp_path
    )
    intake = start_function("push-intake", env, tmp_path)
    yield gateway, intake
    gateway.stop()
    intake.stop()


def test_real_functions_print_json_lines_of_the_delivery(
    json_functions: tuple[FunctionProcess, FunctionProcess], sink: tuple[RecordingSink, Any]
) -> None:
    gateway, intake = json_functions
    delivery = "3f1c3a2e-0d4b-11f0-8a7e-0242ac120002"
    push = push_event(delivery=delivery, branch="task-12-fix", before=BEFORE, after=AFTER)
    body = json.dumps(push.get_data()).encode()
    answer = requests.post(
        gateway.url, data=body, headers=signed_headers(body, event="push", delivery=delivery),
        timeout=10,
    )  # fmt: skip
    assert answer.status_code == 202, answer.text
    (forwarded,) = sink[0].requests
    headers, data = forwarded
    reply = requests.post(intake.url, data=data, headers=headers, timeout=10)
    assert reply.status_code == 200, reply.text
    trace = tracing.delivery_trace_id(delivery)
    gateway.stop()
    intake.stop()  # every line written

    for process in (gateway, intake):
        lines = [json.loads(line) for line in process.lines() if line.startswith("{")]
        assert lines, process.lines()
        mine = [line for line in lines if line["delivery_id"] == delivery]
        assert mine, lines
        for line in mine:
            assert list(line)[: len(logs.JSON_FIELDS)] == list(logs.JSON_FIELDS)
            assert line["function"] == process.name
            assert line["trace_id"] == trace
    # functions-framework's and gunicorn's own lines are theirs; remedy's are all JSON
    for process in (gateway, intake):
        assert not [line for line in process.lines() if re.match(r"^\S+ \S+ +INFO ", line)]
    (replied,) = [
        line for line in map(json.loads, filter(_is_json, intake.lines()))
        if line["message"].startswith("reply ")
    ]  # fmt: skip
    assert replied["task"] == 12
    assert replied["epoch"] == int(reply.headers["ce-epoch"])


def _is_json(line: str) -> bool:
    return line.startswith("{")
