"""label-update: "agents cancelled" in; the task's PR labels reset for the remediation.

Served by ``functions-framework --source functions/label-update/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.events import cloudevent_function

handle = cloudevent_function(wiring.label_update, name="label-update")
