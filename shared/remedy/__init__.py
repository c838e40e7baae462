"""remedy: keeps a multi-agent pull-request pipeline consistent when code changes under it.

Layout (the architecture at a glance). What is deployed:

- ``domain/``    pure rules: task identity, the push order, agents, stages, workflows.
- ``events/``    the CloudEvent catalogue: types, pydantic data models, encode/decode.
- ``ports.py``   narrow Protocols the handlers depend on (locks, ledger, push logs, ...).
- ``handlers/``  the typed core of each Knative function, by what it is part of: the
                 remediation ``chain/``, ``feedback/``, ``control/``, ``reconciler/``,
                 the webhook ``gateway``, and what they all share (``common/``).
- ``adapters/``  one adapter per outside system: ``redis/``, ``kube/``, ``github/``, the
                 broker (``event_sink``).
- ``wiring.py``  the composition root: which adapter serves which port, per function.
- ``entrypoints/``, ``config.py``, ``logs.py``: the HTTP edge (CloudEvents, webhooks),
                 settings, logging.
- ``traces.py``, ``otel.py``: each request a step in its W3C trace; OpenTelemetry spans
                 (``otel``, imported only when an OTLP endpoint is set).

What runs remedy on one machine, never deployed: ``local/`` (the emulated Kubernetes
and GitHub APIs, the agent and workflow simulators, the local broker, ``remedy up``).
The import-linter contracts in ``pyproject.toml`` hold these lines.
"""

__version__ = "0.1.0"
