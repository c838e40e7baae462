"""Requests to the Kubernetes API through the client's ``ApiClient``, answered as raw JSON.

Why not the generated API classes (``CoreV1Api``, ``CustomObjectsApi``): in
kubernetes-client 37 each of their methods validates its arguments with pydantic
(``validate_call``) on every call, and ``core_v1_api``'s module alone takes ~0.9 s to
import — on the cold start of every function that keeps state. remedy makes a handful of
kinds of request and reads every answer as raw JSON anyway. Going through
``ApiClient.param_serialize``/``call_api`` keeps what the client is for — its
configuration, authentication (with the credential refresh of
:mod:`remedy.adapters.kube.api`), TLS and connection pool — and a non-2xx answer raises
``ApiException`` exactly as the generated methods do with ``_preload_content=False``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"


def custom_path(group: str, version: str, plural: str, *, named: bool = False) -> str:
    """The path template of a namespaced custom resource's collection (or one object)."""
    path = f"/apis/{group}/{version}/namespaces/{{namespace}}/{plural}"
    return path + "/{name}" if named else path


CONFIG_MAPS = "/api/v1/namespaces/{namespace}/configmaps"


class Rest:
    """``request`` one path of the API with the client's configuration."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = JSON,
        timeout: float | tuple[float, float] | None = None,
        answer: bool = True,
    ) -> Any:
        """The answer's JSON (``None`` without ``answer``: read and let go, so the
        connection goes back to the pool instead of the next call opening a new one)."""
        headers = {"Accept": JSON}
        if body is not None:
            headers["Content-Type"] = content_type
        request = self._api.param_serialize(
            method=method,
            resource_path=path,
            path_params=dict(params),
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
        )
        response: Any = self._api.call_api(*request, _request_timeout=timeout)
        data = response.read()
        response.response.release_conn()
        if not 200 <= response.status <= 299:
            raise ApiException.from_response(http_resp=response, body=None, data=None)
        return json.loads(data or b"{}") if answer else None
