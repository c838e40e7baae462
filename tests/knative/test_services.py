"""The Knative Services, their configuration and the Redis masters they use.

Covers:
- every function: scale-to-zero annotations, a max scale, containerConcurrency,
  requests and limits, FUNCTION_SOURCE=functions/<name>/main.py and FUNCTION_TARGET
  (http signature), env from the remedy-config ConfigMap, only its own Secret keys
  (by secretKeyRef, never the whole Secret), one shared image, a hardened container;
- only webhook-gateway and control-api are reachable from outside the cluster;
- remedy-config names the three Redis masters and the namespaces remedy works in;
- Redis: three independent masters (one replica each, no replication, persistence off,
  noeviction, limits), each with its Service, and a NetworkPolicy that admits exactly
  the function pods.
"""

from __future__ import annotations

import pytest

from tests.knative.support import EXTERNAL, FUNCTIONS, Manifest, container, env, ksvc, of_kind

SECRET_KEYS = {
    "webhook-gateway": {"WEBHOOK_SECRET"},
    "label-update": {"GITHUB_TOKEN"},
    "feedback-intake": {"GITHUB_TOKEN"},
    "reconciler": {"GITHUB_TOKEN"},
}
REDIS = ("redis-0", "redis-1", "redis-2")


def template_annotations(service: Manifest) -> dict[str, str]:
    return dict(service["spec"]["template"]["metadata"]["annotations"])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_scaling_and_resources(function: str) -> None:
    service = ksvc(function)
    scaling = template_annotations(service)
    assert scaling["autoscaling.knative.dev/min-scale"] == "0"
    assert int(scaling["autoscaling.knative.dev/max-scale"]) >= 1
    spec = service["spec"]["template"]["spec"]
    assert isinstance(spec["containerConcurrency"], int) and spec["containerConcurrency"] > 0
    assert isinstance(spec["timeoutSeconds"], int) and spec["timeoutSeconds"] > 0
    resources = container(service)["resources"]
    for kind in ("requests", "limits"):
        assert set(resources[kind]) >= {"cpu", "memory"}, (function, kind)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_selection_and_configuration(function: str) -> None:
    service = ksvc(function)
    variables = env(service)
    assert variables["FUNCTION_SOURCE"] == f"functions/{function}/main.py"
    assert variables["FUNCTION_TARGET"] == "handle"
    assert variables["FUNCTION_SIGNATURE_TYPE"] == "http"
    assert "PORT" not in variables  # Knative sets it
    assert container(service)["envFrom"] == [{"configMapRef": {"name": "remedy-config"}}]
    secret_keys = set()
    for name, value in variables.items():
        if isinstance(value, dict):
            ref = value["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("remedy-secrets", name)
            secret_keys.add(name)
    assert secret_keys == SECRET_KEYS.get(function, set())


def test_one_image_for_every_function() -> None:
    assert {container(ksvc(f))["image"] for f in FUNCTIONS} == {"remedy-functions"}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_hardened_container_and_visibility(function: str) -> None:
    service = ksvc(function)
    security = container(service)["securityContext"]
    assert security["allowPrivilegeEscalation"] is False
    assert security["runAsNonRoot"] is True
    assert security["capabilities"]["drop"] == ["ALL"]
    visibility = service["metadata"]["labels"].get("networking.knative.dev/visibility")
    assert visibility == (None if function in EXTERNAL else "cluster-local")
    assert service["spec"]["template"]["metadata"]["labels"]["remedy.dev/redis-client"] == "true"


def test_config_map() -> None:
    (config,) = [c for c in of_kind("ConfigMap", "v1") if c["metadata"]["name"] == "remedy-config"]
    data = config["data"]
    assert all(isinstance(value, str) for value in data.values())
    urls = [part.strip() for part in data["REDIS_URLS"].split(",")]
    assert urls == [f"redis://{name}.remedy.svc.cluster.local:6379/0" for name in REDIS]
    assert data["REMEDY_CODERUN_NAMESPACES"] == "agent-platform"
    assert data["REMEDY_WORKFLOW_NAMESPACE"] == "argo"
    assert int(data["REMEDY_CANCEL_GRACE_SECONDS"]) == 30
    assert int(data["REMEDY_MAX_ITERATIONS"]) == 10
    assert not {"WEBHOOK_SECRET", "GITHUB_TOKEN"} & set(data)


def test_three_independent_redis_masters() -> None:
    deployments = {d["metadata"]["name"]: d for d in of_kind("Deployment", "apps/v1")}
    services = {s["metadata"]["name"]: s for s in of_kind("Service", "v1")}
    assert set(deployments) == set(REDIS) == set(services)
    for name in REDIS:
        deployment = deployments[name]
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"]["type"] == "Recreate"
        (redis,) = deployment["spec"]["template"]["spec"]["containers"]
        command = " ".join(redis["command"])
        assert "--save ''" in command and "--appendonly no" in command
        assert "--maxmemory-policy noeviction" in command
        assert "replicaof" not in command and "slaveof" not in command
        assert set(redis["resources"]["limits"]) >= {"cpu", "memory"}
        assert (
            int(
                dict((e["name"], e["value"]) for e in redis["env"])["REDLOCK_RESTART_DELAY_SECONDS"]
            )
            > 0
        )
        assert services[name]["spec"]["selector"] == {"app.kubernetes.io/name": name}


def test_network_policy_admits_only_function_pods() -> None:
    (policy,) = of_kind("NetworkPolicy", "networking.k8s.io/v1")
    selected = policy["spec"]["podSelector"]["matchLabels"]
    for deployment in of_kind("Deployment", "apps/v1"):
        assert selected.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    (rule,) = policy["spec"]["ingress"]
    (peer,) = rule["from"]
    assert peer == {"podSelector": {"matchLabels": {"remedy.dev/redis-client": "true"}}}
    assert rule["ports"] == [{"protocol": "TCP", "port": 6379}]
