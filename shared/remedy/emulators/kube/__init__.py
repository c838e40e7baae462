"""The Kubernetes API emulator: an in-memory apiserver the real clients talk to.

The official ``kubernetes`` Python client and real ``kubectl`` work against it over
HTTP unchanged (discovery, CRDs, CRUD with the real conflict and validation errors,
patches, selectors, finalizers, watch, server-side tables). Start it in-process with
:class:`KubeEmulator` or standalone with ``remedy emulate kube``.

Module map: ``store`` (objects, resourceVersions, event log) → ``cluster`` and
``lifecycle`` (the apiserver's verbs and deletion rules, using ``objects``,
``validation``, ``schemas``, ``patches``, ``crds``) → ``api`` (WSGI: auth, routing,
``handlers``, ``watch``, ``tables``, ``discovery``, ``openapi``, ``faults``) →
``server`` (:class:`KubeEmulator`).
"""

from remedy.emulators.kube.cluster import Cluster
from remedy.emulators.kube.crds import bundled_crds, install_crds
from remedy.emulators.kube.faults import FaultRule, Faults
from remedy.emulators.kube.server import KubeEmulator

__all__ = ["Cluster", "FaultRule", "Faults", "KubeEmulator", "bundled_crds", "install_crds"]
