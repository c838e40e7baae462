"""push-intake: a push CloudEvent in; "remediation requested" out for a Rex push to a task branch.

Served by ``functions-framework --source functions/push-intake/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.events import cloudevent_function

handle = cloudevent_function(wiring.push_intake, name="push-intake")
