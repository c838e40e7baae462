"""One cancellation driven through REST, MCP, the dashboard and the CLI, compared."""
