"""Kubernetes Events, served as ``v1`` and ``events.k8s.io/v1`` from one store.

What a real apiserver does for Events beyond the generic registry: ``shapes`` (the
two wire shapes, the conversion between them, the typed decoding of a request body;
``times`` parses ``Time`` and ``MicroTime`` as Go does), ``rules`` (validation by
request version), ``selection`` (field selectors: the labels each version accepts
and the fields they match) and ``printing`` (the server-side Table ``kubectl get
events`` prints). The generic modules reach these through ``versions`` (the shape a
request names ↔ the stored form), ``objects`` (validation), ``fields`` and
``tables``; ``resources`` declares both versions on the one storage key.
"""

STORAGE_KEY = ("", "events")
