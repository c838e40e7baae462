"""The closed sets of outcomes remedy counts: how a remediation, a cancellation and QA
feedback ended.

Their own module, importing nothing, because the metrics label by them in every function
— webhook-gateway and push-intake included, which must not pay for the pydantic models
of :mod:`remedy.ports`' signatures at start (issue 15; tests/knative/test_import_closure.py).
"""

from __future__ import annotations

from typing import Literal

RemediationOutcome = Literal["resumed", "kept", "superseded", "duplicate", "dropped", "failed"]
"""How a step decided a remediation (a push of a task): see README's metrics table."""
CancellationOutcome = Literal["deleted_before_start", "acknowledged", "forced", "already_gone"]
"""How a cancelled Cleo/Tess run stopped."""
FeedbackOutcome = Literal["iteration", "exhausted"]
"""What QA feedback led to: a counted Rex run, or none past the maximum."""
