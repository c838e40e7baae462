"""Reading metrics as samples, to compare what moved: from /metrics text or the registry.

A sample is keyed by its name and its labels (sorted), so two readings — a scrape before
and one after, or this process's registry before and after — subtract into exactly what
moved. Histogram buckets and sums are left out of :func:`moved` (durations vary from run
to run; their ``_count`` says how many were observed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.registry import REGISTRY

Key = tuple[str, tuple[tuple[str, str], ...]]
Samples = dict[Key, float]

SHA_LIKE = re.compile(r"[0-9a-f]{12,}", re.IGNORECASE)
ID_LIKE = re.compile(r"\d{4,}")
"""What a label value must never look like: a SHA (or part of one), a task id, an epoch
or a delivery id (remedy's are numbers of four digits or more, or carry one)."""


def key(name: str, **labels: str) -> Key:
    return name, tuple(sorted(labels.items()))


def _samples(families: Iterable[Metric]) -> Samples:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in families
        for sample in family.samples
    }


def parse(text: str) -> Samples:
    """Every sample of a /metrics answer, parsed with prometheus_client's own parser."""
    return _samples(text_string_to_metric_families(text))


def registry() -> Samples:
    """Every sample in this process's registry (in-process functions share it)."""
    return _samples(REGISTRY.collect())


def moved(
    before: Mapping[Key, float], after: Mapping[Key, float], prefix: str = "remedy_"
) -> Samples:
    """The samples of ``prefix`` whose value changed, by how much (buckets, sums left out)."""
    changed: Samples = {}
    for sample_key, value in after.items():
        name = sample_key[0]
        if not name.startswith(prefix) or name.endswith(("_bucket", "_sum")):
            continue
        delta = value - before.get(sample_key, 0.0)
        if delta:
            changed[sample_key] = delta
    return changed


def of(samples: Mapping[Key, float], name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples named ``name``, by their labels."""
    return {labels: value for (each, labels), value in samples.items() if each == name}


def total(samples: Mapping[Key, float], name: str, **labels: str) -> float:
    """The sum of ``name``'s samples whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (each, found), value in samples.items()
               if each == name and wanted <= set(found))  # fmt: skip


STATUS_LABELS = ("status", "result")
"""The only labels whose values may be numbers: HTTP statuses, three digits."""


def _suspicious(label: str, value: str) -> bool:
    if label == "le":
        return False
    if value.isdigit():
        return not (label in STATUS_LABELS and re.fullmatch(r"[1-5]\d\d", value))
    return bool(SHA_LIKE.search(value) or ID_LIKE.search(value))


def suspicious_labels(samples: Mapping[Key, float], prefix: str = "remedy_") -> list[str]:
    """Label values of ``prefix`` samples that look like a SHA or an id (none may): any
    run of 12 hex digits or 4 digits, any number but an HTTP status."""
    return [
        f"{name}{{{label}={value!r}}}"
        for name, labels in samples
        if name.startswith(prefix)
        for label, value in labels
        if _suspicious(label, value)
    ]
