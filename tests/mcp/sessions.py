"""``remedy mcp`` as an agent runtime starts it, driven by the SDK's own client.

:func:`remedy_mcp` spawns ``python -m remedy.cli mcp`` over stdio with only the
environment an MCP client hands a server (the SDK's safe defaults plus
``REMEDY_CONTROL_API_URL`` and ``REMEDY_API_TOKEN``), in a directory with no
``.remedy/state.json``, its stderr kept in a file. Anything on the server's stdout that
is not the protocol reaches the client's message handler as an exception; the session
keeps those as ``stray`` so a test can insist there were none.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters, stdio_client
from mcp.client.session import IncomingMessage
from mcp.types import CallToolResult

from tests.support import platform

COMMAND = [sys.executable, "-m", "remedy.cli", "mcp"]


@dataclass
class Session:
    client: Client
    stderr: Path
    stray: list[Exception] = field(default_factory=list)

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.client.call_tool(tool, arguments)

    async def answer(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """The structured answer of a call that must succeed."""
        result = await self.call(tool, **arguments)
        assert not result.is_error, text(result)
        assert result.structured_content is not None
        return result.structured_content

    async def refusal(self, tool: str, **arguments: Any) -> tuple[dict[str, Any], str]:
        """The structured error and the text of a call that must be refused."""
        result = await self.call(tool, **arguments)
        assert result.is_error, text(result)
        return result.structured_content or {}, text(result)

    def log(self) -> str:
        return self.stderr.read_text()


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(block, "text", "") for block in result.content)


@asynccontextmanager
async def remedy_mcp(
    *, url: str | None, token: str | None, cwd: Path, args: tuple[str, ...] = ()
) -> AsyncIterator[Session]:
    env = {"REMEDY_CONTROL_API_URL": url or "", "REMEDY_API_TOKEN": token or ""}
    params = StdioServerParameters(
        command=COMMAND[0],
        args=[*COMMAND[1:], *args],
        env={k: v for k, v in env.items() if v},
        cwd=cwd,
    )
    stderr = cwd / f"remedy-mcp-{len(list(cwd.glob('remedy-mcp-*')))}.log"
    stray: list[Exception] = []

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, Exception):
            stray.append(message)

    with stderr.open("w") as errlog:
        transport = stdio_client(params, errlog=errlog)
        async with Client(transport, message_handler=on_message, read_timeout_seconds=90) as client:
            yield Session(client, stderr, stray)
    for known in platform.TOKENS.values():
        assert known not in stderr.read_text(), "a token was logged"
