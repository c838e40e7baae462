"""OpenAPI documents of the emulated apiserver, as kubectl reads them.

``v3`` serves ``/openapi/v3`` (an index, then one document per group-version), which
kubectl 1.37 uses to learn whether the server validates fields itself and for
``kubectl explain``; ``v2`` serves ``/openapi/v2`` (one Swagger document, JSON or
gnostic protobuf — see ``gnostic``), which kubectl still uses for client-side
validation (every ``v1 List``) and to choose ``apply``'s patch type. Both publish the
schemas of :mod:`.definitions`: the real 1.37 definitions of the built-in kinds, and
each CRD's schema shaped as apiextensions-apiserver publishes it.
"""
