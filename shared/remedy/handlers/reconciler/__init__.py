"""The reconciler: on every ping (and dead letter) it forces cancellations past their
grace, applies kept resumes and re-drives stuck sagas — what no single event does.

May import ``handlers.common``, ``remedy.domain``, ``remedy.events``, ``remedy.ports``,
and the chain's producers' names (to re-drive a saga where it stopped).
"""
