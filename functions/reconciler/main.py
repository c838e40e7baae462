"""reconciler: the PingSource's tick on ``/``, the Broker's dead letters on ``/dead-letter``.

Served by ``functions-framework --source functions/reconciler/main.py --target handle``.
"""

from remedy import wiring
from remedy.handlers.reconciler.http import reconciler_function

handle = reconciler_function(wiring.reconciler)
