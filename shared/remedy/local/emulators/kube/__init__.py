"""The Kubernetes API emulator: an in-memory apiserver the real clients talk to.

The official ``kubernetes`` Python client and real ``kubectl`` work against it over
HTTPS unchanged (discovery, CRDs, CRUD with the real conflict and validation errors,
patches, selectors, finalizers, watch, server-side tables). Start it in-process with
:class:`KubeEmulator` or standalone with ``remedy emulate kube``.

Module map: ``store`` (objects, resourceVersions, event log) → ``cluster`` and
``lifecycle`` (the apiserver's verbs and deletion rules, using ``objects``,
``validation``, ``schemas``, ``patches``, ``crds``, and ``versions`` — the stored
form ↔ the version a request names) → ``api`` (WSGI: auth, routing, ``handlers``,
``watch``, ``tables``, ``discovery``, ``openapi/``, ``faults``, ``protobuf``) →
``server`` (:class:`KubeEmulator`, on ``remedy.local.http_server`` with ``tls``).
``events/`` is what Kubernetes Events need beyond that: both shapes and their
conversion, validation by request version, field selectors, the Event printer.

Known differences from a real apiserver, none of which remedy relies on:

- asynchronous controllers are synchronous: garbage collection of dependents, the
  namespace controller and CRD establishment finish within the request;
- server-side apply sets fields but does not track managers (no ``managedFields``);
- strategic merge patch is the subset built-in kinds without keyed lists need
  (see ``patches``); structural schemas are applied without CEL, formats or bounds;
- built-ins served: namespaces, configmaps, secrets, serviceaccounts, events (core
  v1 and events.k8s.io/v1, one store), leases, customresourcedefinitions — no pods
  or workloads;
- Events never expire: a real apiserver drops each one ``--event-ttl`` (1 h by
  default) after its last write; and an update through events.k8s.io/v1 checks its
  fields' immutability but, as for every kind here, not metadata's
  (``ValidateObjectMetaUpdate``);
- list items carry ``apiVersion``/``kind`` (built-in lists omit them on a cluster);
- discovery is the legacy format (kubectl falls back from aggregated discovery);
  OpenAPI (v2 as JSON or protobuf, v3 as JSON) has the real definitions of the
  built-in kinds and each CRD's schema, but operations carry only what kubectl reads
  (the GVK, ``fieldValidation``, patch types — strategic merge not advertised, so
  kubectl computes it from its compiled-in types), and v2 is never gzipped;
- protobuf request bodies are decoded for Namespace, ConfigMap, Secret and
  ServiceAccount (what ``kubectl create`` sends); responses are always JSON/YAML;
- watch history is bounded by count (``history``), and ``resourceVersionMatch=Exact``
  lists only at the current version;
- a failed JSON patch carries the reason as a cause beside the server's generic 422.
"""

from remedy.local.emulators.kube.cluster import Cluster
from remedy.local.emulators.kube.crds import bundled_crds, install_crds
from remedy.local.emulators.kube.faults import FaultRule, Faults
from remedy.local.emulators.kube.server import KubeEmulator

__all__ = ["Cluster", "FaultRule", "Faults", "KubeEmulator", "bundled_crds", "install_crds"]
