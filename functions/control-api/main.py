"""control-api: agents acknowledge cancellations; agents and people request and watch them.

Served by ``functions-framework --source functions/control-api/main.py --target handle``.
The API is documented in docs/control-api.md.
"""

from remedy import wiring
from remedy.handlers.control.http import control_function

handle = control_function(wiring.control_api)
