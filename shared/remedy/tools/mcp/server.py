"""remedy's MCP server: the tools of :mod:`remedy.tools.mcp.tools` on the official SDK.

Built on ``mcp.server.mcpserver.MCPServer`` (the SDK's high-level server, FastMCP's
successor in 2.x), which derives each tool's input schema from its annotated
parameters and its output schema from its return annotation, and speaks the protocol
over stdio (how agent runtimes launch a tool: one process per client, the protocol on
its stdin and stdout) or over streamable HTTP.

Over stdio nothing but the protocol goes to stdout: logs go to stderr, and the SDK's
stdio transport moves file descriptor 1 to stderr while it owns the real stdout, so
even a stray ``print`` cannot corrupt the stream.

Over HTTP the server listens on 127.0.0.1 only, with the SDK's DNS-rebinding
protection: it holds one token, so everyone who can reach the port acts as that
token's principal, and that must stay the machine's own user.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import anyio
import uvicorn
from mcp.server.mcpserver import MCPServer
from mcp.types import ToolAnnotations

from remedy.tools.control_client import ControlClient
from remedy.tools.mcp.tools import RemedyTools

log = logging.getLogger("remedy.mcp")

NAME = "remedy"
HTTP_HOST = "127.0.0.1"
HTTP_PATH = "/mcp"

INSTRUCTIONS = """\
remedy keeps a multi-agent pull-request pipeline consistent: when Rex pushes to a task
branch, remedy cancels the obsolete review work of Cleo and Tess (CodeRuns), resets the
PR's labels and moves the task's play workflow back. These tools talk to remedy's
control-api with your own token: an agent acts as itself, an operator as an operator.

If you are an agent and your CodeRun carries remedy.dev/cancel-requested-at: stop your
work, call acknowledge_cancellation with your run's namespace and name, then exit.

To stop a task's review agents: request_cancellation, then wait_for_cancellations.
To look around: list_tasks, get_remediation_state, list_cancellations.

A refused call is a tool error reading "control-api answered <status> <code>: <message>":
401 your token is not accepted; 403 you may not do that; 404 unknown task or run;
409 wrong state (e.g. no push seen for the task); 503 busy or unavailable, retry.
"""

_READ = ToolAnnotations(read_only_hint=True, open_world_hint=False)
_ANNOTATIONS = {
    "request_cancellation": ToolAnnotations(
        title="Cancel a task's review agents",
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=False,
        open_world_hint=False,
    ),
    "acknowledge_cancellation": ToolAnnotations(
        title="Acknowledge the cancellation of your own CodeRun",
        read_only_hint=False,
        destructive_hint=True,
        idempotent_hint=True,
        open_world_hint=False,
    ),
    "get_remediation_state": _READ.model_copy(update={"title": "Read a task's remediation"}),
    "list_cancellations": _READ.model_copy(update={"title": "List a task's cancellations"}),
    "list_tasks": _READ.model_copy(update={"title": "List tasks"}),
    "wait_for_cancellations": _READ.model_copy(
        update={"title": "Wait for a task's cancellations to stop"}
    ),
}


def build(connect: Callable[[], ControlClient]) -> MCPServer:
    """The server with every tool, each call made by a client from ``connect``."""
    server: MCPServer = MCPServer(NAME, instructions=INSTRUCTIONS, version=_version())
    for tool in RemedyTools(connect).all():
        annotations = _ANNOTATIONS[tool.__name__]
        description = inspect.cleandoc(tool.__doc__ or "")
        server.add_tool(tool, title=annotations.title, description=description,
                        annotations=annotations)  # fmt: skip
    return server


def serve_stdio(server: MCPServer) -> None:
    server.run("stdio")


def serve_http(server: MCPServer, *, port: int) -> None:
    """Streamable HTTP at ``http://127.0.0.1:PORT/mcp``; logs through ours, to stderr."""
    app = server.streamable_http_app(streamable_http_path=HTTP_PATH, host=HTTP_HOST)
    config = uvicorn.Config(app, host=HTTP_HOST, port=port, log_config=None, lifespan="on")
    log.info("serving MCP over streamable HTTP at http://%s:%d%s", HTTP_HOST, port, HTTP_PATH)
    anyio.run(uvicorn.Server(config).serve)


def _version() -> str:
    try:
        return version("remedy")
    except PackageNotFoundError:
        return "0"
