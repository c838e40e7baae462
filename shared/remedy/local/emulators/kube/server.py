"""``KubeEmulator``: the Kubernetes API emulator, in-process or standalone.

One object holds the model and serves it: ``.cluster`` (the verbs, for seeding and
inspecting from tests), ``.store`` (objects, resourceVersions, event log), ``.faults``
and ``.stats`` — the very objects the HTTP server answers from. ``start()`` serves
it on a loopback port (a free one by default) from a background thread;
``serve_forever()`` blocks (``remedy emulate kube``). ``write_kubeconfig()`` and
``api_client()`` point the real kubernetes client and kubectl at it, with a bearer
token the server checks.

It serves HTTPS (self-signed, see ``tls``) by default because client-go sends no
credentials to a plain-HTTP server; ``tls=False`` serves plain HTTP for clients that
only need the Python client. ``remedy.local.http_server`` keeps connections alive,
so a client pays the TLS handshake once, not per request.
"""

from __future__ import annotations

import secrets
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from remedy.local import http_server
from remedy.local.emulators.kube import crds, kubeconfig, tls, versions
from remedy.local.emulators.kube.api import KubeApi
from remedy.local.emulators.kube.cluster import Cluster
from remedy.local.emulators.kube.faults import Faults, Stats
from remedy.local.emulators.kube.store import Store
from remedy.local.lifecycle import HttpService

if TYPE_CHECKING:
    import ssl

    from kubernetes.client import ApiClient


class KubeEmulator(HttpService):
    what = "the Kubernetes emulator"

    def __init__(
        self,
        *,
        token: str | None = None,
        install_crds: bool = True,
        history: int = 10_000,
        bookmark_interval: float = 30.0,
        tls: bool = True,
    ) -> None:
        self.token = token or secrets.token_urlsafe(24)
        self.ca_pem: bytes | None = None
        self._key_pem = b""
        if tls:
            self.ca_pem, self._key_pem = _certificate()
        self.store = Store(history=history)
        self.cluster = Cluster(self.store)
        self.faults = Faults()
        self.stats = Stats()
        self.app = KubeApi(
            self.cluster,
            token=self.token,
            faults=self.faults,
            stats=self.stats,
            server_address=self._address,
            bookmark_interval=bookmark_interval,
        )
        if install_crds:
            crds.install_crds(self.cluster)

    # --- serving ------------------------------------------------------------------

    def _address(self) -> str:
        return f"{self._served.host}:{self._served.port}" if self._served else "127.0.0.1:0"

    def _context(self) -> ssl.SSLContext | None:
        if self.ca_pem is None:
            return None
        with tempfile.TemporaryDirectory() as folder:
            cert, key = Path(folder) / "tls.crt", Path(folder) / "tls.key"
            cert.write_bytes(self.ca_pem)
            key.write_bytes(self._key_pem)
            return tls.server_context(cert, key)

    def bind(self, port: int = 0, *, host: str = "127.0.0.1") -> Self:
        """Bind without serving yet (then :meth:`serve_forever`)."""
        self.store.reopen()
        self._served = http_server.make(self.app, host=host, port=port, context=self._context())
        return self

    def start(self, port: int = 0, *, host: str = "127.0.0.1") -> Self:
        """Serve from a background thread; returns self (``.url`` is then set)."""
        self.bind(port, host=host)
        self.served.start()
        return self

    def serve_forever(self) -> None:
        if self._served is None:
            self.bind()
        self.served.serve_forever()

    def stop(self) -> None:
        """End watches, then the server and its open connections."""
        self.store.close()
        super().stop()

    @property
    def url(self) -> str:
        return self.served.url

    @property
    def open_connections(self) -> int:
        """Client connections currently open (kept alive between requests)."""
        return self._served.open_connections if self._served is not None else 0

    # --- clients ------------------------------------------------------------------

    def write_kubeconfig(self, path: str | Path, *, namespace: str = "default") -> Path:
        return kubeconfig.write(
            Path(path), server=self.url, token=self.token, ca_pem=self.ca_pem, namespace=namespace
        )

    def api_client(self) -> ApiClient:
        """A kubernetes ``ApiClient`` configured for this emulator."""
        return kubeconfig.api_client(server=self.url, token=self.token, ca_pem=self.ca_pem)

    # --- direct access (the same objects the server serves) ------------------------

    def apply(self, manifest: dict[str, Any]) -> dict[str, Any]:
        return self.cluster.apply(manifest)

    def get(
        self, api_version: str, kind: str, name: str, namespace: str = "default"
    ) -> dict[str, Any]:
        resource = self.cluster.resource(api_version, kind)
        stored = self.cluster.get(resource, namespace if resource.namespaced else "", name)
        return versions.served(stored.copy(), resource)

    def list(
        self, api_version: str, kind: str, namespace: str | None = "default"
    ) -> list[dict[str, Any]]:
        resource = self.cluster.resource(api_version, kind)
        listing = self.cluster.list(resource, namespace)
        return [versions.served(record.copy(), resource) for record in listing.items]


_CERTIFICATE: tuple[bytes, bytes] | None = None
_CERTIFICATE_LOCK = threading.Lock()


def _certificate() -> tuple[bytes, bytes]:
    """One certificate per process: emulators are many in a test run, and cheap."""
    global _CERTIFICATE  # noqa: PLW0603
    with _CERTIFICATE_LOCK:
        if _CERTIFICATE is None:
            _CERTIFICATE = tls.make_certificate()
        return _CERTIFICATE
