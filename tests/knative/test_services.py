"""The Knative Services, their configuration and the Redis masters they use.

What a function needs is read from the code its wiring factory builds
(tests/knative/source_scan.py), not from a table kept by hand.

Covers:
- every function: scale-to-zero annotations, a max scale, containerConcurrency,
  requests and limits, as many functions-framework THREADS as containerConcurrency,
  FUNCTION_SOURCE=functions/<name>/main.py and FUNCTION_TARGET (http signature), env
  from the remedy-config ConfigMap, one shared image, a hardened container;
- each function gets exactly the Secret keys its code reads (GITHUB_TOKEN where it
  builds a GitHub client, WEBHOOK_SECRET for the gateway, REMEDY_API_TOKENS for
  control-api), each by secretKeyRef, never the whole Secret;
- control-api's request timeout outlasts its longest watch and stays within Knative's
  default maximum; the others keep short timeouts;
- only webhook-gateway and control-api are reachable from outside the cluster;
- every function has a readiness and a liveness probe, both ``GET`` on the path the code
  answers probes on (remedy.handlers.common.health), on the serving port; readiness
  leaves periodSeconds and failureThreshold to Knative (its aggressive probing while a
  pod starts is what a cold start waits on); liveness gives up only after longer than
  the Service's request timeout, so a pod whose threads are all busy with requests in
  flight is never restarted for it;
- Redis: three independent masters (one replica each, no replication, persistence off,
  noeviction, limits), each with its Service, and a NetworkPolicy that admits exactly
  the pods of the functions whose code uses Redis.
"""

from __future__ import annotations

import pytest

from remedy.handlers.common.health import HEALTH_PATH
from remedy.handlers.control.watch import MAX_TIMEOUT_S
from tests.knative import source_scan
from tests.knative.support import EXTERNAL, FUNCTIONS, Manifest, container, env, ksvc, of_kind

REDIS = ("redis-0", "redis-1", "redis-2")
KNATIVE_MAX_TIMEOUT_S = 600
"""config-defaults' max-revision-timeout-seconds unless a cluster raises it."""
REDIS_LABEL = "remedy.dev/redis-client"


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
    assert env(service)["THREADS"] == str(spec["containerConcurrency"])
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
    assert secret_keys == source_scan.needs(function).secrets, function


def test_secret_keys_follow_the_code() -> None:
    """The derivation itself: the functions known to call out get their keys."""
    keys = {f: source_scan.needs(f).secrets for f in FUNCTIONS}
    assert keys["webhook-gateway"] == {"WEBHOOK_SECRET"}
    assert keys["control-api"] == {"REMEDY_API_TOKENS"}
    assert {f for f, k in keys.items() if "GITHUB_TOKEN" in k} == {
        f for f in FUNCTIONS if source_scan.needs(f).github
    }
    assert source_scan.needs("label-update").github
    assert not source_scan.needs("reconciler").github  # it never calls GitHub


@pytest.mark.parametrize("function", FUNCTIONS)
def test_request_timeout(function: str) -> None:
    timeout = ksvc(function)["spec"]["template"]["spec"]["timeoutSeconds"]
    if function == "control-api":
        # a watch streams for up to MAX_TIMEOUT_S, then ends itself
        assert MAX_TIMEOUT_S < timeout <= KNATIVE_MAX_TIMEOUT_S
    else:
        assert timeout <= 60


def _probe_path(probe: Manifest, serving_port: int) -> str:
    get = probe["httpGet"]
    assert get.get("port", serving_port) == serving_port, "Knative probes the serving port"
    assert get.get("scheme", "HTTP") == "HTTP"
    path: str = get["path"]
    return path


@pytest.mark.parametrize("function", FUNCTIONS)
def test_probes(function: str) -> None:
    service = ksvc(function)
    spec = container(service)
    (port,) = [p["containerPort"] for p in spec["ports"]]
    readiness, liveness = spec["readinessProbe"], spec["livenessProbe"]
    assert _probe_path(readiness, port) == _probe_path(liveness, port) == HEALTH_PATH
    assert "periodSeconds" not in readiness and "failureThreshold" not in readiness
    request_timeout = service["spec"]["template"]["spec"]["timeoutSeconds"]
    period, threshold = liveness["periodSeconds"], liveness["failureThreshold"]
    assert 0 < liveness["timeoutSeconds"] <= period
    assert period * threshold > request_timeout, (function, period, threshold)


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


@pytest.mark.parametrize("function", FUNCTIONS)
def test_only_redis_clients_carry_the_redis_label(function: str) -> None:
    labels = ksvc(function)["spec"]["template"]["metadata"]["labels"]
    uses_redis = source_scan.needs(function).redis
    assert (labels.get(REDIS_LABEL) == "true") == uses_redis, function
    assert labels.get(REDIS_LABEL) in (None, "true")


def test_the_gateway_is_the_one_function_without_redis() -> None:
    assert {f for f in FUNCTIONS if not source_scan.needs(f).redis} == {"webhook-gateway"}


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
