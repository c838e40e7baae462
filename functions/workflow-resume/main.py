"""workflow-resume: labels reset and agents stopped in; the play workflow resumed once.

Served by ``functions-framework --source functions/workflow-resume/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.events import cloudevent_function

handle = cloudevent_function(wiring.workflow_resume, name="workflow-resume")
