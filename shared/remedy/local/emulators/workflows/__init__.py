"""The workflow simulator: play workflows marked ``remedy.dev/simulate: "true"`` move on.

After remedy (or anyone) resumes such a workflow, the simulator does what Argo's
controller would do with the play template: run the next agent as a CodeRun (which the
agent simulator plays), move the ``current-stage`` label and suspend at the next stage,
each step after a short, configurable delay. ``template`` holds the template's segments,
``steps`` decides the next step from the objects alone, ``writes`` builds what it
writes, ``simulator`` watches and writes through the API, ``__main__`` runs it
standalone.
"""

from remedy.local.emulators.workflows.simulator import (
    DEFAULT_STEP_DELAY_S,
    DELAY_VARIABLE,
    WorkflowSimulator,
    step_delay_from_env,
)
from remedy.local.emulators.workflows.template import NODE_LABEL, SEGMENTS, SELECTOR, SIMULATE_LABEL

__all__ = [
    "DEFAULT_STEP_DELAY_S",
    "DELAY_VARIABLE",
    "NODE_LABEL",
    "SEGMENTS",
    "SELECTOR",
    "SIMULATE_LABEL",
    "WorkflowSimulator",
    "step_delay_from_env",
]
