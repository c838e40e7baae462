"""Running remedy on one machine — never deployed.

``remedy up`` (``up``) starts real Redis masters, the emulated Kubernetes and GitHub
APIs (``emulators/``), the agent and workflow simulators, the local Knative broker
(``broker/``, routing by ``knative/``'s own Triggers) and every function as its own
process (``processes``, ``functions``); ``invoke`` mirrors ``kn func invoke``. The
deployed code (``domain``, ``events``, ``handlers``, ``adapters``, ``wiring``,
``entrypoints``) never imports this package; it may import all of them.
"""
