"""webhook-gateway: GitHub webhooks in, verified CloudEvents out to the broker (K_SINK).

Served by ``functions-framework --source functions/webhook-gateway/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.webhook import webhook_function

handle = webhook_function(wiring.gateway)
