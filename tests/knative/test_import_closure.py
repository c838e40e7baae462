"""Each function loads only what it uses: the cold path is the hot path on Knative.

A function scaled to zero pays for its imports on the request a user waits on. So, in a
fresh interpreter per function: importing ``functions/<name>/main.py`` loads none of the
outside systems' client libraries (they come with the first request's factory), and
building the function's handler — what its first request does — loads exactly the
client libraries its wiring uses (read from the code by ``source_scan.needs``, the same
derivation the RBAC and Secrets tests trust): webhook-gateway and push-intake never load
the Kubernetes client or PyGithub, a function that never calls GitHub never loads
PyGithub. Neither path ever loads OpenTelemetry (tracing is off), the MCP SDK or the
Kubernetes client's generated API classes. webhook-gateway, the first hop of every
remediation, also never loads pydantic or requests: it verifies and forwards bytes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.knative import source_scan
from tests.knative.support import FUNCTIONS, ROOT

CLIENTS = {"kubernetes": "kubernetes", "github": "github", "redis": "redis"}
GENERATED_APIS = "kubernetes.client.api"
NEVER = ("opentelemetry", "mcp", "remedy.local", "remedy.tools", GENERATED_APIS)
"""Never loaded by a function. The last, the Kubernetes client's generated API classes:
CoreV1Api alone takes ~0.9 s to import and every method of them validates its arguments
with pydantic on each call; remedy's requests go through the ApiClient instead
(remedy.adapters.kube.rest)."""
GITHUB_PAYLOADS = "remedy.events.github"
PAYLOAD_READERS = {"push-intake", "feedback-intake", "workflow-resume", "reconciler"}
"""The functions that read GitHub webhook payloads (pushes, reviews, pull requests; the
reconciler replays dead-lettered ones). The payload models are pydantic classes built
when imported, ~45 ms of a cold start; the other functions never load them."""
GATEWAY_NEVER = ("pydantic", "requests")
"""~85 ms and ~9 MiB (pydantic and the models) and ~25 ms (requests over urllib3) of a
cold start that webhook-gateway has no use for."""

PROBE = """
import importlib.util, json, os, sys
spec = importlib.util.spec_from_file_location("main", sys.argv[1])
main = importlib.util.module_from_spec(spec)
spec.loader.exec_module(main)
imported = sorted(m for m in sys.modules)
from remedy import wiring
getattr(wiring, sys.argv[2])()
built = sorted(m for m in sys.modules)
print(json.dumps({"imported": imported, "built": built}))
"""


def _kubeconfig(directory: Path) -> Path:
    """A kubeconfig naming an unreachable server: building clients never connects."""
    path = directory / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9"}}],
                "users": [{"name": "u", "user": {"token": "t" * 20}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            }
        )
    )
    return path


def _loaded(function: str, tmp_path: Path) -> dict[str, set[str]]:
    env = {
        "PATH": "/usr/bin:/bin",
        "KUBECONFIG": str(_kubeconfig(tmp_path)),
        "REDIS_URLS": "redis://127.0.0.1:9/0",
        "GITHUB_API_URL": "http://127.0.0.1:9",
        "GITHUB_TOKEN": "g" * 20,
        "WEBHOOK_SECRET": "s" * 20,
        "K_SINK": "http://127.0.0.1:9",
        "REMEDY_API_TOKENS": "operator:a=" + "o" * 20,
    }
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            str(ROOT / "functions" / function / "main.py"),
            source_scan.factory_of(function),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return {key: set(value) for key, value in found.items()}


def _of(modules: set[str], package: str) -> bool:
    return any(m == package or m.startswith(package + ".") for m in modules)


@pytest.mark.parametrize("function", sorted(FUNCTIONS))
def test_a_function_loads_only_the_clients_it_uses(function: str, tmp_path: Path) -> None:
    loaded = _loaded(function, tmp_path)
    for package in (*CLIENTS.values(), *NEVER):
        assert not _of(loaded["imported"], package), f"importing {function} loads {package}"
    needs = source_scan.needs(function)
    uses = {"kubernetes": needs.kubernetes, "github": needs.github, "redis": needs.redis}
    for kind, package in CLIENTS.items():
        built = _of(loaded["built"], package)
        assert built == uses[kind], (
            f"{function}'s first request {'loads' if built else 'does not load'} {package}, "
            f"its wiring {'uses' if uses[kind] else 'does not use'} it"
        )
    for package in NEVER:
        assert not _of(loaded["built"], package), f"{function}'s first request loads {package}"


def test_the_chain_entry_never_loads_kubernetes_or_github() -> None:
    for function in ("webhook-gateway", "push-intake"):
        needs = source_scan.needs(function)
        assert not needs.kubernetes and not needs.github, function


def test_the_gateway_loads_neither_pydantic_nor_requests(tmp_path: Path) -> None:
    loaded = _loaded("webhook-gateway", tmp_path)
    for package in GATEWAY_NEVER:
        assert not _of(loaded["built"], package), f"webhook-gateway loads {package}"


@pytest.mark.parametrize("function", sorted(set(FUNCTIONS) - PAYLOAD_READERS))
def test_only_payload_readers_load_the_github_payload_models(function: str, tmp_path: Path) -> None:
    loaded = _loaded(function, tmp_path)
    assert not _of(loaded["built"], GITHUB_PAYLOADS), f"{function} loads {GITHUB_PAYLOADS}"
