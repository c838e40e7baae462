"""Loading Broker and Trigger manifests; everything the broker cannot honour fails early.

Covers:
- the kustomization's resources are what is read (sub-directories followed, files not
  listed ignored); without a kustomization every *.yaml is read;
- load-time errors name the offending manifest: a Trigger's unknown subscriber, its
  unsupported filter (cesql), a Trigger for another Broker or namespace, duplicate
  Triggers, a bad delivery spec, a dead-letter sink that is not defined, no or several
  Brokers, a missing kustomization resource, invalid YAML;
- LocalBroker refuses to start without a URL for every Service it may send to.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from remedy.local.broker import LocalBroker
from remedy.local.broker.manifests import ManifestError, load, manifest_files
from tests.broker.support import TOPOLOGY

BROKER = """
apiVersion: eventing.knative.dev/v1
kind: Broker
metadata: {name: b, namespace: ns}
"""
KSVC = "{apiVersion: serving.knative.dev/v1, kind: Service, name: %s}"
BROKER_WITH_SINK = BROKER.replace(
    "metadata: {name: b, namespace: ns}",
    "metadata: {name: b, namespace: ns}\nspec: {delivery: {deadLetterSink: {ref: %s}}}"
    % (KSVC % "nope"),
)
SERVICE = """
apiVersion: serving.knative.dev/v1
kind: Service
metadata: {name: svc, namespace: ns}
"""


def trigger(name: str = "t1", **spec: str) -> str:
    body = {
        "broker": "b",
        "subscriber": "{ref: {apiVersion: serving.knative.dev/v1, kind: Service, name: svc}}",
        "filter": "{attributes: {type: x}}",
        **spec,
    }
    lines = "\n".join(f"  {key}: {value}" for key, value in body.items() if value != "")
    return f"""
apiVersion: eventing.knative.dev/v1
kind: Trigger
metadata: {{name: {name}, namespace: ns}}
spec:
{lines}
"""


def write(directory: Path, *documents: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "all.yaml").write_text("---".join(textwrap.dedent(d) for d in documents))
    return directory


def test_the_test_topology_loads(tmp_path: Path) -> None:
    topology = load(TOPOLOGY)
    assert topology.broker.name == "test"
    assert [t.name for t in topology.triggers] == ["t-a", "t-b", "t-reply", "t-both", "t-loop"]
    assert topology.services == {"sub-a", "sub-b", "sub-c", "sub-loop", "dead-letters"}
    assert [p.name for p in topology.files] == ["broker.yaml", "services.yaml", "triggers.yaml"]


def test_kustomization_resources_decide_what_is_read(tmp_path: Path) -> None:
    write(tmp_path / "sub", BROKER, SERVICE)
    (tmp_path / "sub" / "kustomization.yaml").write_text("resources: [all.yaml]\n")
    (tmp_path / "triggers.yaml").write_text(trigger())
    (tmp_path / "ignored.yaml").write_text(trigger("not-listed"))
    (tmp_path / "kustomization.yaml").write_text("resources: [sub, triggers.yaml]\n")
    topology = load(tmp_path)
    assert [t.name for t in topology.triggers] == ["t1"]
    assert [p.name for p in manifest_files(tmp_path)] == ["all.yaml", "triggers.yaml"]


def test_without_kustomization_every_yaml_is_read(tmp_path: Path) -> None:
    write(tmp_path, BROKER, SERVICE, trigger("t1"), trigger("t2"))
    assert [t.name for t in load(tmp_path).triggers] == ["t1", "t2"]


@pytest.mark.parametrize(
    ("documents", "message"),
    [
        (
            (BROKER, SERVICE, trigger(subscriber="{ref: %s}" % (KSVC % "ghost"))),
            "Trigger 't1': subscriber Knative Service 'ghost' is not defined",
        ),
        (
            (BROKER, SERVICE, trigger(filters="[{cesql: \"type = 'x'\"}]")),
            "Trigger 't1': spec.filters[0]: the 'cesql' dialect is not supported",
        ),
        ((BROKER, SERVICE, trigger(broker="other")), "Trigger 't1': spec.broker is 'other'"),
        ((BROKER, SERVICE, trigger(), trigger()), "defined more than once: ['t1']"),
        ((BROKER, SERVICE, trigger(delivery="{retry: -2}")), "Trigger 't1': delivery.retry"),
        ((BROKER, SERVICE, trigger(subscriber="{uri: /relative}")), "Trigger 't1' subscriber"),
        ((BROKER, SERVICE, trigger(subscriber="")), "Trigger 't1' subscriber"),
        (
            (BROKER, SERVICE, trigger(delivery="{deadLetterSink: {ref: %s}}" % (KSVC % "nope"))),
            "Trigger 't1': deadLetterSink Knative Service 'nope' is not defined",
        ),
        (
            (BROKER_WITH_SINK, SERVICE),
            "Broker 'b': deadLetterSink Knative Service 'nope' is not defined",
        ),
        ((SERVICE,), "expected exactly one Broker"),
        ((BROKER, BROKER.replace("name: b", "name: c")), "expected exactly one Broker"),
        (
            (BROKER, SERVICE, trigger().replace("namespace: ns", "namespace: other")),
            "differs from the Broker's",
        ),
    ],
)
def test_load_errors_name_the_manifest(
    tmp_path: Path, documents: tuple[str, ...], message: str
) -> None:
    write(tmp_path, *documents)
    with pytest.raises(ManifestError) as failure:
        load(tmp_path)
    assert message in str(failure.value)


def test_a_missing_kustomization_resource_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [gone.yaml]\n")
    with pytest.raises(ManifestError, match=r"'gone\.yaml' does not exist"):
        load(tmp_path)


def test_remote_kustomization_resources_are_refused(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [https://example.com/x.yaml]\n")
    with pytest.raises(ManifestError, match="only local resources"):
        load(tmp_path)


def test_invalid_yaml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("kind: [unclosed\n")
    with pytest.raises(ManifestError, match=r"bad\.yaml: not valid YAML"):
        load(tmp_path)


def test_a_broker_can_be_chosen_by_name(tmp_path: Path) -> None:
    write(tmp_path, BROKER, BROKER.replace("name: b", "name: c"), SERVICE, trigger())
    assert load(tmp_path, broker="b").broker.name == "b"


def test_local_broker_needs_a_url_for_every_service_it_sends_to() -> None:
    with pytest.raises(ValueError, match=r"\['dead-letters', 'sub-loop'\]"):
        LocalBroker(TOPOLOGY, {"sub-a": "http://a", "sub-b": "http://b", "sub-c": "http://c"})
