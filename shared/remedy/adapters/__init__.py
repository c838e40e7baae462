"""One adapter per outside system: ``redis/`` (Redlock, the idempotency ledger, push
logs), ``kube/`` (CodeRuns, workflows, remediation state), ``github/`` (labels, pull
request heads), and the broker over HTTP (``event_sink``).

Adapters implement ``remedy.ports`` with the real client libraries; only they (and the
local platform) import ``redis``, ``kubernetes`` and ``github``. They may use
``remedy.domain`` and ``remedy.events``, never ``remedy.handlers``.
"""
