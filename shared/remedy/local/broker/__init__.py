"""The local Knative Broker: the same routing and delivery rules, on one machine.

It reads the Broker and Trigger manifests from ``knative/`` (the ones production
applies), so local routing is production routing. Ingress takes CloudEvents in binary
and structured mode and answers 202 at once; each matching Trigger gets its own
delivery with the Broker's retry, backoff and timeout; a 200 carrying a CloudEvent is a
reply that re-enters the broker; exhausted events go to the dead-letter sink with the
``knativeerror*`` extensions. Behaviour follows knative/eventing (pkg/broker/filter,
pkg/kncloudevents, pkg/eventfilter); where it deliberately differs, the module says so.
"""

from remedy.local.broker.server import LocalBroker

__all__ = ["LocalBroker"]
