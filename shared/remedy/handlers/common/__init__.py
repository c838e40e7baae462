"""What every step shares: run-once over the ledger, results, the task step under its lock,
and the cancellation, resume and stop paths several groups take.

May import ``remedy.domain``, ``remedy.events`` and ``remedy.ports``; nothing of the
groups (chain, feedback, control, reconciler) that use it.
"""
