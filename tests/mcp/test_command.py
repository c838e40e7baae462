"""``remedy mcp`` as a command: its configuration, the SDK missing, streamable HTTP.

Covers: without a URL and token (and no state file) it exits 2 before speaking MCP,
saying what to set on stderr, stdout untouched; without the SDK (the ``mcp`` extra not
installed) it exits 2 saying how to install it, the range it names being the extra's,
which the dev extra (``make run``, ``make test``) pulls in; on the local platform it
falls back on ``remedy up``'s state file (its control-api and operator token), like
the CLI; ``--http PORT`` serves the same tools over streamable HTTP on 127.0.0.1 to the
SDK's client, logging to stderr only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from mcp import Client

from remedy.local.ports import free_port
from remedy.tools.mcp import command
from tests.mcp.sessions import COMMAND, remedy_mcp
from tests.support import platform as platforms
from tests.support.waiting import eventually

ALICE = platforms.TOKENS["operator:alice"]
ROOT = Path(__file__).resolve().parents[2]
CONFIGURATION = ("REMEDY_CONTROL_API_URL", "REMEDY_API_TOKEN")


def _env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if k not in CONFIGURATION}, **extra}


def _run(argv: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=_env(**env), cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False, stdin=subprocess.DEVNULL)  # fmt: skip


def test_without_configuration_it_says_what_to_set(tmp_path: Path) -> None:
    nothing = _run(COMMAND, tmp_path)
    assert (nothing.returncode, nothing.stdout) == (2, "")
    assert "remedy mcp: no control-api URL" in nothing.stderr
    assert "REMEDY_CONTROL_API_URL" in nothing.stderr
    no_token = _run(COMMAND, tmp_path, REMEDY_CONTROL_API_URL="http://127.0.0.1:9")
    assert no_token.returncode == 2 and "no control-api token" in no_token.stderr


def test_without_the_sdk_it_says_how_to_install_it(tmp_path: Path) -> None:
    hide_the_sdk = (
        "import sys; sys.modules['mcp'] = None; from remedy.cli import main; "
        "sys.exit(main(['mcp']))"
    )
    missing = _run([sys.executable, "-c", hide_the_sdk], tmp_path,
                   REMEDY_CONTROL_API_URL="http://127.0.0.1:9", REMEDY_API_TOKEN=ALICE)  # fmt: skip
    assert (missing.returncode, missing.stdout) == (2, "")
    assert f"{sys.executable} -m pip install -e '.[mcp]'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_the_sdk_range_named_is_the_extras() -> None:
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert f"mcp{command.SDK}" in extra["mcp"]
    assert "remedy[mcp]" in extra["dev"], "make run and make test install it"


@pytest.mark.anyio
async def test_the_state_file_of_remedy_up(platform: platforms.Platform, tmp_path: Path) -> None:
    state = {"control_api_url": platform.control_api, "api_tokens": {"operator:local": ALICE}}
    (tmp_path / ".remedy").mkdir()
    (tmp_path / ".remedy" / "state.json").write_text(json.dumps(state))
    async with remedy_mcp(url=None, token=None, cwd=tmp_path) as mcp:
        page = await mcp.answer("list_tasks")
    assert [t["task_id"] for t in page["tasks"]] == [platforms.TASK]


@pytest.mark.anyio
async def test_streamable_http(platform: platforms.Platform, tmp_path: Path) -> None:
    port = free_port()
    served = subprocess.Popen(
        [*COMMAND, "--http", str(port)],
        env=_env(REMEDY_CONTROL_API_URL=platform.control_api, REMEDY_API_TOKEN=ALICE),
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        eventually(lambda: _listening(port) or served.poll() is not None, timeout=30, every=0.1,
                   what="remedy mcp --http to listen")  # fmt: skip
        assert served.poll() is None, served.communicate()[1]
        async with Client(f"http://127.0.0.1:{port}/mcp") as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            result = await client.call_tool("list_tasks", {})
            missing = await client.call_tool("get_remediation_state", {"task_id": 77})
    finally:
        served.terminate()
        out, err = served.communicate(timeout=30)
    assert "wait_for_cancellations" in names and len(names) == 6
    assert not result.is_error and result.structured_content is not None
    assert [t["task_id"] for t in result.structured_content["tasks"]] == [platforms.TASK]
    assert missing.is_error and (missing.structured_content or {})["status"] == 404
    assert out == "", "logs go to stderr"
    assert f"streamable HTTP at http://127.0.0.1:{port}/mcp" in err
    assert ALICE not in err


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
