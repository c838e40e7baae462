"""``remedy mcp``: remedy's tools for AI agents, over the Model Context Protocol.

Agents (and operators, through their own agent runtimes) request and acknowledge
cancellations and read and watch tasks with the same control-api calls the CLI and the
dashboard make, so every path produces the same events. ``command`` is the
sub-command (it imports the SDK only when run: the SDK is the ``remedy[mcp]`` extra);
``server`` builds the SDK's server; ``tools`` holds the tools and their descriptions;
``outputs`` their structured output.
"""
