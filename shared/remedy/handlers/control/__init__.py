"""control-api: agents acknowledge cancellations, people and agents request and watch
them, over REST with per-principal tokens.

May import ``handlers.common``, ``remedy.domain``, ``remedy.events``, ``remedy.ports``.
"""
