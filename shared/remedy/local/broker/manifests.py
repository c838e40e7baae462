"""Read the Broker, its Triggers and the Knative Service names from ``knative/``.

The local broker must route exactly as production does, so it reads the files
``kubectl apply -k knative/`` applies: the ``resources`` of ``kustomization.yaml``
(followed into sub-directories), or every ``*.yaml`` when there is no kustomization.
Anything the broker could not honour is a load-time error that names the manifest: a
Trigger whose subscriber is not a Service defined there, an unsupported filter dialect,
a malformed delivery spec. Failing at start-up beats dropping events later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from remedy.local.broker.filters import Filter, FilterError, compile_trigger
from remedy.local.broker.policy import (
    BROKER_DEFAULTS,
    KNATIVE_SERVICE_API,
    DeliveryPolicy,
    Destination,
    PolicyError,
    parse_delivery,
    parse_destination,
)

EVENTING_API = "eventing.knative.dev/v1"
KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


class ManifestError(ValueError):
    """The manifests cannot be served by the local broker; the message says which."""


@dataclass(frozen=True)
class BrokerSpec:
    name: str
    namespace: str | None
    delivery: DeliveryPolicy
    source_file: Path


@dataclass(frozen=True)
class TriggerSpec:
    name: str
    namespace: str | None
    filter: Filter
    subscriber: Destination
    delivery: DeliveryPolicy | None
    source_file: Path


@dataclass(frozen=True)
class Topology:
    broker: BrokerSpec
    triggers: tuple[TriggerSpec, ...]
    services: frozenset[str]
    files: tuple[Path, ...]

    def delivery_for(self, trigger: TriggerSpec) -> DeliveryPolicy:
        """A Trigger's own ``delivery`` replaces the Broker's as a whole."""
        return trigger.delivery if trigger.delivery is not None else self.broker.delivery

    def referenced_services(self) -> frozenset[str]:
        """Every Knative Service the broker may send to (subscribers and dead letters)."""
        names = {t.subscriber.service for t in self.triggers}
        names |= {d.service for d in (self.delivery_for(t).dead_letter for t in self.triggers) if d}
        if self.broker.delivery.dead_letter is not None:
            names.add(self.broker.delivery.dead_letter.service)
        return frozenset(name for name in names if name)


def manifest_files(directory: Path) -> tuple[Path, ...]:
    """The files ``kubectl apply -k`` would read, in kustomization order."""
    kustomization = next(
        (directory / name for name in KUSTOMIZATION_NAMES if (directory / name).is_file()), None
    )
    if kustomization is None:
        if not directory.is_dir():
            raise ManifestError(f"{directory} is not a directory")
        return tuple(sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]))
    content = yaml.safe_load(kustomization.read_text()) or {}
    resources = content.get("resources", []) if isinstance(content, Mapping) else None
    if not isinstance(resources, list):
        raise ManifestError(f"{kustomization}: 'resources' must be a list of paths")
    files: list[Path] = []
    for entry in resources:
        if not isinstance(entry, str) or "://" in entry or entry.startswith("github.com/"):
            raise ManifestError(f"{kustomization}: only local resources are supported: {entry!r}")
        path = (directory / entry).resolve()
        if path.is_dir():
            files.extend(manifest_files(path))
        elif path.is_file():
            files.append(path)
        else:
            raise ManifestError(f"{kustomization}: resource {entry!r} does not exist")
    return tuple(files)


def documents(files: tuple[Path, ...]) -> Iterator[tuple[Path, Mapping[str, Any]]]:
    for path in files:
        try:
            loaded = list(yaml.safe_load_all(path.read_text()))
        except yaml.YAMLError as exc:
            raise ManifestError(f"{path}: not valid YAML: {exc}") from None
        for document in loaded:
            if document is None:
                continue
            if not isinstance(document, Mapping):
                raise ManifestError(f"{path}: every YAML document must be a mapping")
            yield path, document


def _is(document: Mapping[str, Any], api: str, kind: str) -> bool:
    return document.get("apiVersion") == api and document.get("kind") == kind


def _meta(document: Mapping[str, Any], *, path: Path) -> tuple[str, str | None]:
    metadata = document.get("metadata") or {}
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if not isinstance(name, str) or not name:
        raise ManifestError(f"{path}: a {document.get('kind')} without metadata.name")
    namespace = metadata.get("namespace")
    return name, namespace if isinstance(namespace, str) else None


def _broker(docs: list[tuple[Path, Mapping[str, Any]]], wanted: str | None) -> BrokerSpec:
    found = [(p, d) for p, d in docs if _is(d, EVENTING_API, "Broker")]
    if wanted is not None:
        found = [(p, d) for p, d in found if _meta(d, path=p)[0] == wanted]
    if len(found) != 1:
        names = [_meta(d, path=p)[0] for p, d in found]
        raise ManifestError(
            f"expected exactly one Broker{f' named {wanted!r}' if wanted else ''}, found {names}"
        )
    path, document = found[0]
    name, namespace = _meta(document, path=path)
    spec = document.get("spec") or {}
    try:
        delivery = (
            parse_delivery(spec["delivery"], owner=f"Broker {name!r}")
            if isinstance(spec, Mapping) and spec.get("delivery") is not None
            else BROKER_DEFAULTS
        )
    except PolicyError as exc:
        raise ManifestError(str(exc)) from None
    return BrokerSpec(name, namespace, delivery, path)


def _trigger(
    path: Path, document: Mapping[str, Any], *, broker: BrokerSpec, services: frozenset[str]
) -> TriggerSpec:
    name, namespace = _meta(document, path=path)
    owner = f"Trigger {name!r}"
    spec = document.get("spec")
    if not isinstance(spec, Mapping):
        raise ManifestError(f"{owner} ({path}): spec is missing")
    if spec.get("broker") != broker.name:
        raise ManifestError(f"{owner}: spec.broker is {spec.get('broker')!r}, not {broker.name!r}")
    if namespace != broker.namespace:
        raise ManifestError(
            f"{owner}: namespace {namespace!r} differs from the Broker's {broker.namespace!r}"
        )
    try:
        subscriber = parse_destination(spec.get("subscriber"), owner=f"{owner} subscriber")
        delivery = (
            None if spec.get("delivery") is None else parse_delivery(spec["delivery"], owner=owner)
        )
        trigger_filter = compile_trigger(spec, trigger=name)
    except (PolicyError, FilterError) as exc:
        raise ManifestError(str(exc)) from None
    for destination, role in (
        (subscriber, "subscriber"),
        (delivery and delivery.dead_letter, "deadLetterSink"),
    ):
        if (
            isinstance(destination, Destination)
            and destination.service
            and destination.service not in services
        ):
            raise ManifestError(
                f"{owner}: {role} Knative Service {destination.service!r} is not defined "
                f"(known: {sorted(services)})"
            )
    return TriggerSpec(name, namespace, trigger_filter, subscriber, delivery, path)


def load(directory: Path, *, broker: str | None = None) -> Topology:
    """Parse ``directory`` (e.g. ``knative/``) into the broker's routing table."""
    files = manifest_files(directory)
    docs = list(documents(files))
    services = frozenset(
        _meta(d, path=p)[0] for p, d in docs if _is(d, KNATIVE_SERVICE_API, "Service")
    )
    broker_spec = _broker(docs, broker)
    sink = broker_spec.delivery.dead_letter
    if sink is not None and sink.service and sink.service not in services:
        raise ManifestError(
            f"Broker {broker_spec.name!r}: deadLetterSink Knative Service {sink.service!r} "
            "is not defined"
        )
    triggers: list[TriggerSpec] = []
    for path, document in docs:
        if _is(document, EVENTING_API, "Trigger"):
            triggers.append(_trigger(path, document, broker=broker_spec, services=services))
    names = [t.name for t in triggers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ManifestError(f"Triggers defined more than once: {duplicates}")
    return Topology(broker_spec, tuple(triggers), services, files)
