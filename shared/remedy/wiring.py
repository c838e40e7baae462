"""The composition root: builds each function's handler from the environment.

The only place that knows which adapter serves which port. Function entry points call
one factory here, lazily, on their first request.
"""

from __future__ import annotations

from remedy import config, logs
from remedy.adapters.event_sink import HttpEventSink
from remedy.adapters.idempotency import LedgerIdempotency
from remedy.adapters.ledger import Ledger
from remedy.adapters.redis_epochs import EpochCounter
from remedy.adapters.redlock import Redlock
from remedy.domain.pushes import PushPolicy
from remedy.handlers.gateway import Gateway
from remedy.handlers.push_intake import PushIntake


def gateway() -> Gateway:
    secrets = config.webhook_secrets()
    for secret in secrets:
        logs.register_secret(secret.decode())
    return Gateway(secrets=secrets, sink=HttpEventSink(config.sink_url()))


def push_intake() -> PushIntake:
    urls = config.redis_urls()
    return PushIntake(
        policy=PushPolicy(
            implementation_agents=config.implementation_agents(),
            branches=config.task_branch_pattern(),
        ),
        idempotency=LedgerIdempotency(Ledger.from_urls(urls)),
        epochs=EpochCounter(Redlock.from_urls(urls)),
    )
