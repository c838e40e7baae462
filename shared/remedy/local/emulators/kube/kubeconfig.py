"""Kubeconfig files and client configuration for an emulator.

The emulator serves HTTPS on loopback with a self-signed certificate (see ``tls``)
and authenticates a bearer token, so the kubeconfig names the server URL, the
certificate to trust and a user with that token; kubectl and the kubernetes client
read it unchanged. The file is written with mode 0600 because it holds the token.
"""

from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml
from kubernetes import client

CONTEXT = "remedy-emulator"


def document(
    *, server: str, token: str, ca_pem: bytes | None = None, namespace: str = "default"
) -> dict[str, object]:
    cluster: dict[str, str] = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CONTEXT, "cluster": cluster}],
        "users": [{"name": CONTEXT, "user": {"token": token}}],
        "contexts": [
            {
                "name": CONTEXT,
                "context": {"cluster": CONTEXT, "user": CONTEXT, "namespace": namespace},
            }
        ],
        "current-context": CONTEXT,
        "preferences": {},
    }


def write(
    path: Path, *, server: str, token: str, ca_pem: bytes | None = None, namespace: str = "default"
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    config = document(server=server, token=token, ca_pem=ca_pem, namespace=namespace)
    text = yaml.safe_dump(config, sort_keys=False)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def api_client(*, server: str, token: str, ca_pem: bytes | None = None) -> client.ApiClient:
    configuration = client.Configuration()
    configuration.host = server
    if ca_pem is not None:
        configuration.ca_cert_data = ca_pem.decode()
    configuration.api_key = {"BearerToken": token}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    return client.ApiClient(configuration)
