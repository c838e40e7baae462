"""The remediation chain a Rex push starts: push-intake → agent-cancel → label-update →
workflow-resume, each one Knative function, chained by the events they reply with.

May import ``handlers.common``, ``remedy.domain``, ``remedy.events``, ``remedy.ports``.
"""
