"""control-api: agents acknowledge cancellations, people and agents list tasks and
request and watch cancellations, over REST with per-principal tokens.

May import ``handlers.common``, ``remedy.domain``, ``remedy.events``, ``remedy.ports``.
"""
