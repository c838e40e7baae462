"""remedy.metrics: the names, the README's table, bounded labels, recorders that never raise.

Covers:
- every remedy metric in the process's registry is one of ``metrics.METRICS`` and the
  other way round; names follow Prometheus conventions (``remedy_`` prefix, counters
  ``_total``, histograms in ``_seconds``, no unit in a gauge's name but its own), each
  has help text;
- README's metrics table lists exactly those metrics, each with its type and labels;
- the label helpers map whatever they are given to a closed set: a GitHub path to an
  endpoint template (ids, names, query strings gone), a lock resource to its kind, an
  event type outside the catalogue to ``other``, a dead letter's code to its reason;
- the outcome series exist at 0 from the start;
- a recorder that fails logs once at WARNING and never raises into the step;
- importing remedy.metrics loads only prometheus_client's core and its text exposition
  (what its package itself imports), none of its framework integrations (Twisted,
  Django, aiohttp), its multiprocess mode, its parser or its Graphite bridge.
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.registry import REGISTRY

from remedy import metrics
from remedy.events import catalogue
from tests.metrics.samples import key, registry, suspicious_labels

README = Path(__file__).resolve().parents[2] / "README.md"
TYPES = {"counter", "gauge", "histogram"}


def _type(metric: Any) -> str:
    return str(metric._type)


def _exposed(metric: Any) -> str:
    """The name a scrape shows (a counter's family name gains ``_total``)."""
    return f"{metric._name}_total" if _type(metric) == "counter" else str(metric._name)


def readme_table() -> dict[str, tuple[str, tuple[str, ...]]]:
    """README's metrics table: name → (type, labels)."""
    lines = README.read_text().splitlines()
    (start,) = [i for i, line in enumerate(lines) if line == "| name | type | labels | meaning |"]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        name, kind, labels, _meaning = (cell.strip() for cell in line.strip("|").split("|", 3))
        found = re.fullmatch(r"`(remedy_[a-z_]+)`", name)
        assert found, f"cannot read the metric name {name!r}"
        assert kind in TYPES, f"unknown type {kind!r} for {name}"
        names = tuple(re.findall(r"`([a-z_]+)`", labels))
        assert ", ".join(f"`{n}`" for n in names) == labels, f"cannot read the labels {labels!r}"
        rows[found[1]] = (kind, names)
    return rows


def test_the_registry_holds_exactly_the_named_metrics() -> None:
    ours = {family.name for family in REGISTRY.collect() if family.name.startswith("remedy")}
    assert ours == {str(m._name) for m in metrics.METRICS}
    assert len({m._name for m in metrics.METRICS}) == len(metrics.METRICS)


@pytest.mark.parametrize("metric", metrics.METRICS, ids=lambda m: str(m._name))
def test_names_follow_prometheus_conventions(metric: Any) -> None:
    name, kind = _exposed(metric), _type(metric)
    assert re.fullmatch(r"remedy_[a-z]+(_[a-z]+)*", name), name
    if kind == "counter":
        assert name.endswith("_total")
    if kind == "histogram":
        assert name.endswith("_seconds")
    if kind == "gauge":
        assert not name.endswith(("_total", "_seconds")), name
    assert metric._documentation.strip()
    assert all(re.fullmatch(r"[a-z]+", label) for label in metric._labelnames)


def test_the_readme_table_says_what_the_module_defines() -> None:
    defined = {_exposed(m): (_type(m), tuple(m._labelnames)) for m in metrics.METRICS}
    assert readme_table() == defined


@pytest.mark.parametrize(
    ("path", "template"),
    [
        ("/repos/5dlabs/cto/pulls", "/repos/{owner}/{repo}/pulls"),
        ("/repos/5dlabs/cto/pulls?head=5dlabs:task-12", "/repos/{owner}/{repo}/pulls"),
        ("/repos/a/b/pulls/1234567", "/repos/{owner}/{repo}/pulls/{number}"),
        ("/repos/a/b/issues", "/repos/{owner}/{repo}/issues"),
        ("/repos/a/b/issues/12/labels", "/repos/{owner}/{repo}/issues/{number}/labels"),
        (
            "/repos/a/b/issues/12/labels/iteration-9999",
            "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
        ),
        ("/repos/a/b/commits/" + "f" * 40, "other"),
        ("/user", "other"),
    ],
)
def test_github_paths_become_templates(path: str, template: str) -> None:
    assert metrics.github_endpoint(path) == template


def test_other_labels_come_from_closed_sets() -> None:
    assert metrics.lock_kind("remedy:lock:task:12") == "task"
    assert metrics.lock_kind("remedy:pushes:lock:task:5dlabs/cto:12") == "push-log"
    assert metrics.lock_kind("remedy:lock:something:" + "a" * 40) == "other"
    assert metrics.event_step(catalogue.PUSH) == catalogue.PUSH
    assert metrics.event_step("dev.attacker." + "e" * 40) == "other"
    assert [metrics.dead_letter_reason(c) for c in ("400", "422", "404", "409", "429")] == [
        "rejected", "rejected", "retries_exhausted", "retries_exhausted", "retries_exhausted",
    ]  # fmt: skip
    assert [metrics.dead_letter_reason(c) for c in ("500", "503", None, "?", "")] == [
        "retries_exhausted", "retries_exhausted", "no_answer", "no_answer", "no_answer",
    ]  # fmt: skip


def test_hostile_values_never_reach_a_label() -> None:
    before = registry()
    sha = "c0ffee" * 6 + "abcd"
    metrics.github_request("BREW", f"/repos/o/r/git/commits/{sha}", 1234)
    metrics.github_rate_limit({"x-ratelimit-remaining": "4999", "x-ratelimit-resource": sha})
    metrics.dead_letter(sha, f"dev.remedy.{sha}")
    metrics.lock_acquisition(f"task-{sha}", acquired=False, waited_s=0.001)
    metrics.acknowledgement(418)
    after = registry()
    # what moved (a series other tests created already moves too; a gauge may be reset)
    new = {
        k: v
        for k, v in after.items()
        if k[0].startswith("remedy_") and not k[0].endswith("_bucket") and before.get(k) != v
    }
    assert len({name for name, _ in new}) >= 5, f"the recorders recorded too little: {new}"
    assert suspicious_labels(new) == []
    # and the check itself sees what it must refuse
    shown = {key("remedy_x_total", task="12"): 1.0, key("remedy_y_total", head=sha[:12]): 1.0}
    shown[key("remedy_z_total", epoch="1796293111")] = 1.0
    shown[key("remedy_w_total", status="404")] = 1.0
    assert len(suspicious_labels(shown)) == 3


def test_outcome_series_exist_from_the_start() -> None:
    samples = registry()
    for outcome in ("resumed", "kept", "superseded", "duplicate", "dropped", "failed"):
        assert key("remedy_remediations_total", outcome=outcome) in samples
    for outcome in ("deleted_before_start", "acknowledged", "forced", "already_gone"):
        assert key("remedy_cancellations_total", outcome=outcome) in samples


def test_a_failing_recorder_logs_and_never_raises(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken:
        def labels(self, *args: object, **kwargs: object) -> Any:
            raise RuntimeError("the registry is broken")

    monkeypatch.setattr(metrics, "STEPS", Broken())
    monkeypatch.setattr(metrics, "CANCELLATIONS", Broken())
    monkeypatch.setattr(metrics._warned, "is_set", lambda: False)  # as in a fresh process
    with caplog.at_level(logging.DEBUG, logger="remedy.metrics"):
        metrics.step_done("push-intake", catalogue.PUSH, "replied", 0.01)
        metrics.TALLY.cancellation("forced")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        "recording a metric (step_done) failed",
        "recording a metric (cancellation) failed",
    ]


PROBE = """
import sys
before = set(sys.modules)
import remedy.metrics
print(" ".join(sorted(m for m in set(sys.modules) - before if m.startswith("prometheus_client"))))
"""


def test_only_the_core_of_prometheus_client_is_loaded() -> None:
    found = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    assert "prometheus_client.metrics" in found and "prometheus_client.exposition" in found
    for helper in ("twisted", "django", "aiohttp", "bridge", "multiprocess", "parser"):
        assert not any(m.split(".")[1:2] == [helper] for m in found), (helper, found)
