"""agent-cancel: "remediation requested" in; the task's obsolete Cleo/Tess runs stopped.

Served by ``functions-framework --source functions/agent-cancel/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.events import cloudevent_function

handle = cloudevent_function(wiring.agent_cancel, name="agent-cancel")
