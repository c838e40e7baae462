"""Helpers shared by several test folders (chain, control, reconciler, feedback, mcp,
dashboard, consistency)."""
