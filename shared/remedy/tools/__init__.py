"""User-facing tools that talk to a running remedy — never deployed in a function.

``control_client`` is a small typed client of control-api (docs/control-api.md); the
CLI commands (``remedy tasks``, ``remedy task``, ``remedy cancel``, ``remedy watch``,
in ``commands``) and the MCP server are built on it, so every path a person or an
agent takes goes through the same endpoints and produces the same events. The tools
reach remedy only over control-api: they import neither the handlers nor the
adapters, and the deployed code (``domain``, ``events``, ``handlers``, ``adapters``,
``wiring``, ``entrypoints``) never imports this package.
"""
