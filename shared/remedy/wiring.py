"""The composition root: builds each function's handler from the environment.

The only place that knows which adapter serves which port. Function entry points call
one factory here, lazily, on their first request.
"""

from __future__ import annotations

from remedy import config, logs
from remedy.adapters.event_sink import HttpEventSink
from remedy.handlers.gateway import Gateway


def gateway() -> Gateway:
    secrets = config.webhook_secrets()
    for secret in secrets:
        logs.register_secret(secret.decode())
    return Gateway(secrets=secrets, sink=HttpEventSink(config.sink_url()))
