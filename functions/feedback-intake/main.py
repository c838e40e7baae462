"""feedback-intake: QA feedback (comment or review) in; a counted Rex remediation run out.

Served by ``functions-framework --source functions/feedback-intake/main.py --target handle``.
"""

from remedy import wiring
from remedy.entrypoints.events import cloudevent_function

handle = cloudevent_function(wiring.feedback_intake, name="feedback-intake")
