"""The four ways to ask remedy to cancel task 12's review agents, each as its users do.

- REST: ``POST /v1/tasks/12/cancellations`` with requests, the operator's token and an
  ``Idempotency-Key``;
- MCP: ``remedy mcp`` over stdio, driven by the SDK's own client (tests/mcp/sessions.py),
  tool ``request_cancellation``;
- the dashboard: headless Chromium (tests/dashboard/browser.py) signs in, opens the
  task from the list, types the reason and presses Cancel; the page makes its own
  Idempotency-Key (a fresh UUID), so the round reads the key control-api received;
- the CLI: ``python -m remedy.cli cancel 12 --reason … --url … --token …`` as a
  process of its own, in a directory without a state file and without REMEDY_*.

Each returns what its user was told: the event id and the epoch the cancellation was
requested for (the REST and MCP answers' fields, the page's and the command's words).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import anyio
import requests
from selenium.webdriver.common.keys import Keys

from tests.dashboard.browser import Page
from tests.mcp.sessions import remedy_mcp
from tests.support.platform import TASK, Platform

PAGE_SAID = re.compile(r"^Requested: event (\S+) for epoch (\d+)\.$")
CLI_SAID = re.compile(
    rf"^cancellation of task {TASK}'s review agents requested \(epoch (\d+), event (\S+)\)$"
)
CONFIGURATION = ("REMEDY_CONTROL_API_URL", "REMEDY_API_TOKEN")


@dataclass(frozen=True)
class Caller:
    """Who asks, and with what: the same operator token on every path."""

    platform: Platform
    page: Page
    workdir: Path
    token: str


@dataclass(frozen=True)
class Told:
    event_id: str
    epoch: int


Request = Callable[[Caller, str, str], Told]
"""(caller, reason, idempotency key) → what the caller was told."""


def rest(caller: Caller, reason: str, key: str) -> Told:
    response = requests.post(
        f"{caller.platform.control_api}/v1/tasks/{TASK}/cancellations",
        json={"reason": reason},
        headers={"Authorization": f"Bearer {caller.token}", "Idempotency-Key": key},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    return Told(str(accepted["event_id"]), int(accepted["epoch"]))


def mcp(caller: Caller, reason: str, key: str) -> Told:
    return anyio.run(_mcp, caller, reason, key, backend="asyncio")


async def _mcp(caller: Caller, reason: str, key: str) -> Told:
    async with remedy_mcp(url=caller.platform.control_api, token=caller.token,
                          cwd=caller.workdir) as session:  # fmt: skip
        accepted = await session.answer(
            "request_cancellation", task_id=TASK, reason=reason, idempotency_key=key
        )
        assert session.stray == [], "remedy mcp wrote something not MCP to stdout"
    return Told(str(accepted["event_id"]), int(accepted["epoch"]))


def dashboard(caller: Caller, reason: str, key: str) -> Told:
    """``key`` is unused: the page makes its own."""
    page = caller.page
    page.driver.get(caller.platform.dashboard_url)
    page.wait(lambda d: page.focused() == "input#token", "the sign-in form")
    page.press(caller.token, Keys.ENTER)
    link = f"#tasks a[data-task='{TASK}']"
    page.wait(lambda d: page.all(link), "the task in the list")
    page.find(link).click()
    page.wait(lambda d: page.text("h1") == f"Task {TASK}" and page.all("#cancel-form"),
              "the task's page")  # fmt: skip
    page.find("#cancel-reason").send_keys(reason)
    page.find("#cancel-submit").click()
    said = page.wait(lambda d: PAGE_SAID.match(page.text("#cancel-result")),
                     "the page saying the cancellation was requested")  # fmt: skip
    assert said is not None
    return Told(said.group(1), int(said.group(2)))


def cli(caller: Caller, reason: str, key: str) -> Told:
    argv = [sys.executable, "-m", "remedy.cli", "cancel", str(TASK), "--reason", reason,
            "--idempotency-key", key, "--url", caller.platform.control_api,
            "--token", caller.token]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k not in CONFIGURATION}
    done = subprocess.run(argv, env=env, cwd=caller.workdir, capture_output=True, text=True,
                          timeout=60, check=False, stdin=subprocess.DEVNULL)  # fmt: skip
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}"
    said = CLI_SAID.match(done.stdout.strip())
    assert said, done.stdout
    assert caller.token not in done.stdout + done.stderr, "the command printed the token"
    return Told(said.group(2), int(said.group(1)))


PATHS: dict[str, Request] = {"rest": rest, "mcp": mcp, "dashboard": dashboard, "cli": cli}
