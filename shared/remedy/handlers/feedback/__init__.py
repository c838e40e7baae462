"""feedback-intake: a Tess "Required Changes" comment or review becomes a counted, capped
Rex remediation run, with the PR labels that say so.

May import ``handlers.common``, ``remedy.domain``, ``remedy.events``, ``remedy.ports``.
"""
