"""The emulated apiserver as one WSGI application.

Order of a request, as in the real server: unauthenticated paths (``/version``,
``/healthz``, ``/livez``, ``/readyz``, which the real server lets anyone read), then
bearer-token authentication (401 otherwise), then discovery and OpenAPI, then
resource URLs — where the request is counted, injected faults get their turn, and
the verb's handler runs. Every failure leaves as a ``Status`` object. The
``/_emulator/...`` admin endpoints (faults, stats, compaction) need the token too.
"""

from __future__ import annotations

import hmac
import socket
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from remedy.local.emulators.kube import discovery, errors, handlers
from remedy.local.emulators.kube.cluster import Cluster
from remedy.local.emulators.kube.errors import ApiError
from remedy.local.emulators.kube.faults import Faults, Stats, rule_from
from remedy.local.emulators.kube.http import (
    Request,
    Response,
    negotiate,
    respond,
    respond_error,
    respond_text,
)
from remedy.local.emulators.kube.openapi import v2, v3
from remedy.local.emulators.kube.routing import resolve, verb

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_PUBLIC = ("/version", "/healthz", "/livez", "/readyz")


class KubeApi:
    def __init__(
        self,
        cluster: Cluster,
        *,
        token: str | None,
        faults: Faults,
        stats: Stats,
        server_address: Callable[[], str],
        bookmark_interval: float = 30.0,
    ) -> None:
        self.cluster = cluster
        self.token = token
        self.faults = faults
        self.stats = stats
        self.server_address = server_address
        self.bookmark_interval = bookmark_interval

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request.from_environ(environ)
        try:
            response = self.handle(request)
        except ApiError as error:
            response = respond_error(error)
        except ConnectionError:
            raise  # a dropped connection (fault injection): no answer at all
        except Exception:
            # A bug in the emulator: answer as the apiserver does for a panic, and say
            # why on stderr.
            traceback.print_exc()
            response = respond_error(errors.internal_error())
        return response(start_response)

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/") or "/"
        if path in _PUBLIC:
            if path == "/version":
                return respond(200, discovery.SERVER_VERSION)
            return respond_text(200, "ok", extra=[("Content-Type", "text/plain")])
        self._authenticate(request)
        if path.startswith("/_emulator/"):
            return self._admin(request, path)
        if request.method == "GET":
            if path == "/openapi/v2":
                return v2.serve(self.cluster.registry, request)
            found = self._discovery(path)
            if found is not None:
                return found
        route = resolve(self.cluster.registry, path)
        if route is None:
            raise errors.path_not_found()
        action = verb(request.method, route, watch=request.flag("watch"))
        self.stats.count(action, route.resource.plural)
        output = negotiate(request.headers.get("accept", ""))
        self._inject(request, action, route.resource.group, route.resource.plural, route.name)
        if action == "watch":
            return handlers.watch(
                self.cluster, route, request, output, bookmark_interval=self.bookmark_interval
            )
        return handlers.HANDLERS[action](self.cluster, route, request, output)

    def _authenticate(self, request: Request) -> None:
        if self.token is None:
            return
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), self.token.encode()
        ):
            raise errors.unauthorized()

    def _inject(self, request: Request, action: str, group: str, plural: str, name: str) -> None:
        decision = self.faults.decide(verb=action, group=group, plural=plural, name=name)
        if decision.delay_seconds:
            time.sleep(decision.delay_seconds)
        if decision.drop:
            sock = request.environ.get("werkzeug.socket")
            if sock is not None:
                # SO_LINGER 0 turns the close into a reset: the client sees the
                # connection die mid-request, with no response at all.
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                sock.shutdown(socket.SHUT_RDWR)
            raise ConnectionAbortedError("fault injection: connection dropped")
        if decision.error is not None:
            raise decision.error

    def _discovery(self, path: str) -> Response | None:
        registry = self.cluster.registry
        parts = path.strip("/").split("/")
        document: object | None = None
        if path == "/api":
            document = discovery.api_versions(self.server_address())
        elif path == "/apis":
            document = discovery.api_group_list(registry)
        elif parts[0] == "api" and len(parts) == 2:
            document = discovery.api_resource_list(registry, "", parts[1])
        elif parts[0] == "apis" and len(parts) == 2:
            document = discovery.api_group(registry, parts[1])
        elif parts[0] == "apis" and len(parts) == 3:
            document = discovery.api_resource_list(registry, parts[1], parts[2])
        elif path == "/openapi/v3":
            document = v3.index(registry)
        elif path.startswith("/openapi/v3/"):
            document = v3.group_version_document(registry, path[len("/openapi/v3/") :])
        else:
            return None
        if document is None:
            raise errors.path_not_found()
        return respond(200, document)

    def _admin(self, request: Request, path: str) -> Response:
        method = request.method
        if path == "/_emulator/faults":
            if method == "GET":
                return respond(200, {"rules": [rule.as_dict() for rule in self.faults.rules()]})
            if method == "POST":
                body, _ = request.json_body()
                return respond(201, self.faults.add_rule(rule_from(body)).as_dict())
            if method == "DELETE":
                count = len(self.faults.rules())
                self.faults.clear()
                return respond(200, {"cleared": count})
        elif path.startswith("/_emulator/faults/") and method == "DELETE":
            rule_id = path.rsplit("/", 1)[1]
            if not self.faults.remove(rule_id):
                raise ApiError(404, "NotFound", f'fault rule "{rule_id}" not found')
            return respond(200, {"removed": rule_id})
        elif path == "/_emulator/stats":
            if method == "GET":
                return respond(200, {"requests": self.stats.snapshot()})
            if method == "DELETE":
                self.stats.reset()
                return respond(200, {"requests": {}})
        elif path == "/_emulator/compact" and method == "POST":
            self.cluster.store.compact()
            return respond(200, {"compactedTo": self.cluster.store.resource_version})
        else:
            raise errors.path_not_found()
        raise ApiError(405, "MethodNotAllowed", f"{method} is not supported on {path}")
