"""remedy: keeps a multi-agent pull-request pipeline consistent when code changes under it.

Layout (the architecture at a glance):

- ``domain/``    pure rules: task identity, agents, stages, what counts as a remediation push.
- ``events/``    the CloudEvent catalogue: types, pydantic data models, encode/decode.
- ``ports.py``   narrow Protocols the handlers depend on (locks, ledger, broker, ...).
- ``adapters/``  one adapter per outside system (Redis, the broker over HTTP, ...).
- ``handlers/``  the typed core of each Knative function; ``functions/<name>/main.py``
                 is only a thin HTTP entry point over one of these.
- ``emulators/`` the local platform's emulated Kubernetes and GitHub APIs.
- ``platform/``  running remedy on one machine: redis-server processes, ``remedy up``.
"""

__version__ = "0.1.0"
