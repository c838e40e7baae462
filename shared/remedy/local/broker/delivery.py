"""One event to one Trigger's subscriber: attempts, retries, reply, dead letter.

The rules are Knative's (``pkg/broker/filter/filter_handler.go`` and
``pkg/kncloudevents``):

- The subscriber gets the event in binary mode with ``Prefer: reply`` and without
  ``knativebrokerttl`` (the broker keeps the TTL to itself).
- A 2xx with an empty body and no CloudEvent is success without a reply. A 2xx whose
  body is not a CloudEvent, or is a malformed one, counts as a failed delivery with
  status 502 and is retried like one. A 2xx carrying a CloudEvent is a reply: it gets
  the TTL the event had and re-enters the broker.
- Failures are retried per the delivery policy (:mod:`remedy.local.broker.policy`); when the
  delivery gives up, the event goes to the dead-letter sink with ``knativeerrordest``
  (the subscriber URL), ``knativeerrorcode`` (the last status; 500 for a connection
  error or timeout, as Knative's dispatcher reports them) and ``knativeerrordata`` (the
  last response body, base64, cut to 1024 characters as Knative cuts it). The sink gets
  the same retry policy; its own reply is ignored.

Where Knative's channel-based broker loses the error extensions (a 502 for a non-event
body, a timeout on the channel hop) this broker keeps them: they are what the
reconciler's dead-letter handler needs to act on.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from remedy.local.broker.envelopes import (
    Encoding,
    Envelope,
    MalformedCloudEvent,
    NotACloudEvent,
    encoding_of,
    parse,
)
from remedy.local.broker.policy import DeliveryPolicy, is_retriable
from remedy.local.broker.records import (
    DeadLetterRecord,
    DeliveryRecord,
    DropRecord,
    Outcome,
    Records,
)
from remedy.local.broker.scheduler import Scheduler
from remedy.logs import delivery_context

log = logging.getLogger("remedy.local.broker")

TTL = "knativebrokerttl"
ERROR_DEST, ERROR_CODE, ERROR_DATA = "knativeerrordest", "knativeerrorcode", "knativeerrordata"
ERROR_DATA_MAX = 1024
CONNECTION_ERROR_CODE = 500


@dataclass(frozen=True)
class Result:
    """How one attempt ended."""

    ok: bool
    status: int | None
    """The HTTP status seen, 502 for a bad 2xx body, None when no response arrived."""
    body: bytes = b""
    reply: Envelope | None = None
    error: str | None = None

    @property
    def retriable(self) -> bool:
        return not self.ok and is_retriable(self.status)


def classify(status: int, headers: Mapping[str, str], body: bytes) -> Result:
    """Knative's reading of a subscriber's response."""
    if not 200 <= status < 300:
        return Result(ok=False, status=status, body=body, error=f"HTTP {status}")
    if encoding_of(headers) is Encoding.UNKNOWN:
        if body:
            return Result(
                ok=False,
                status=502,
                body=body,
                error=f"HTTP {status} with a non-empty body that is not a CloudEvent",
            )
        return Result(ok=True, status=status, body=body)
    try:
        reply = parse(headers, body)
    except (MalformedCloudEvent, NotACloudEvent) as exc:
        return Result(ok=False, status=502, body=body, error=f"malformed reply event: {exc}")
    return Result(ok=True, status=status, body=body, reply=reply)


def error_extensions(*, target: str, result: Result) -> dict[str, str]:
    """The knativeerror* extensions for a delivery to ``target`` that ended in ``result``."""
    if result.status is None:
        code, data = CONNECTION_ERROR_CODE, f"dispatch error: {result.error}".encode()
    else:
        code, data = result.status, result.body
    return {
        ERROR_DEST: target,
        ERROR_CODE: str(code),
        ERROR_DATA: base64.b64encode(data).decode("ascii")[:ERROR_DATA_MAX],
    }


class Sessions:
    """One keep-alive session per subscriber (scheme://host:port), pooled to the workers."""

    def __init__(self, *, pool_size: int) -> None:
        self._pool_size = pool_size
        self._sessions: dict[str, requests.Session] = {}

    def for_url(self, url: str) -> requests.Session:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        session = self._sessions.get(key)
        if session is None:
            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=self._pool_size, max_retries=0)
            session.mount(key, adapter)
            session = self._sessions.setdefault(key, session)
        return session

    def close(self) -> None:
        for session in list(self._sessions.values()):
            session.close()


def post(
    session: requests.Session,
    url: str,
    event: Envelope,
    *,
    timeout_s: float,
    prefer_reply: bool = True,
) -> Result:
    headers, body = event.to_binary()
    if prefer_reply:  # Knative asks subscribers for replies, not dead-letter sinks
        headers["Prefer"] = "reply"
    try:
        response = session.post(url, data=body, headers=headers, timeout=timeout_s)
    except requests.Timeout:
        return Result(ok=False, status=None, error=f"no answer within {timeout_s}s")
    except requests.RequestException as exc:
        return Result(ok=False, status=None, error=f"{type(exc).__name__}: {exc}")
    return classify(response.status_code, response.headers, response.content)


Republish = Callable[[Envelope, str], object]
"""Hands a reply back to the broker: (event, origin)."""


@dataclass
class Delivery:
    """The delivery of ``event`` for ``trigger``; runs its attempts on the scheduler."""

    trigger: str
    event: Envelope
    """As the subscriber sees it (no TTL)."""
    ttl: int
    target: str
    dead_letter_target: str | None
    policy: DeliveryPolicy
    sessions: Sessions
    scheduler: Scheduler
    records: Records
    republish: Republish
    attempts: int = 0

    def start(self) -> None:
        self.records.job_started()
        self.scheduler.submit(self._attempt)

    def _context(self) -> str:
        return self.event.get("correlationid") or self.event.id

    def _record(self, result: Result, outcome: Outcome) -> None:
        self.records.delivery(
            DeliveryRecord(
                event_id=self.event.id,
                event_type=self.event.type,
                trigger=self.trigger,
                attempt=self.attempts,
                status=result.status,
                outcome=outcome,
                target=self.target,
                error=result.error,
            )
        )

    def _attempt(self) -> None:
        self.attempts += 1
        with delivery_context(self._context()):
            try:
                session = self.sessions.for_url(self.target)
                timeout_s = self.policy.request_timeout_s
                self._after(post(session, self.target, self.event, timeout_s=timeout_s))
            except Exception:  # never leave the delivery counted as in flight forever
                log.exception("delivery of %s to %s crashed", self.event.id, self.trigger)
                self.records.job_finished()

    def _after(self, result: Result) -> None:
        what = f"{self.event.type} {self.event.id} -> {self.trigger} attempt {self.attempts}"
        if result.ok:
            outcome = Outcome.REPLIED if result.reply is not None else Outcome.ACCEPTED
            self._record(result, outcome)
            log.info("delivered %s: HTTP %s (%s)", what, result.status, outcome)
            if result.reply is not None:
                reply = result.reply.replace({TTL: str(self.ttl)})
                self.republish(reply, f"reply from {self.trigger}")
            self.records.job_finished()
            return
        retries_done = self.attempts - 1
        if result.retriable and retries_done < self.policy.retry:
            self._record(result, Outcome.RETRY)
            delay = self.policy.backoff_s(retries_done)
            log.warning("retrying %s in %.3fs: %s", what, delay, result.error)
            self.scheduler.submit_after(delay, self._attempt)
            return
        self._record(result, Outcome.FAILED)
        log.error("delivery failed for good %s: %s", what, result.error)
        if self.dead_letter_target is None:
            self.records.drop(DropRecord(self.event, f"{self.trigger}: {result.error}"))
            log.error("no dead-letter sink: %s is lost for %s", self.event.id, self.trigger)
            self.records.job_finished()
            return
        letter = self.event.replace(error_extensions(target=self.target, result=result))
        DeadLetter(self, letter).start()


@dataclass
class DeadLetter:
    """Sending a failed event to the dead-letter sink, with the same retry policy."""

    origin: Delivery
    event: Envelope
    attempts: int = 0

    def start(self) -> None:
        self.origin.scheduler.submit(self._attempt)

    def _attempt(self) -> None:
        origin = self.origin
        assert origin.dead_letter_target is not None
        self.attempts += 1
        target, policy = origin.dead_letter_target, origin.policy
        session = origin.sessions.for_url(target)
        result = post(
            session, target, self.event, timeout_s=policy.request_timeout_s, prefer_reply=False
        )
        with delivery_context(origin._context()):
            retries_done = self.attempts - 1
            if result.retriable and retries_done < policy.retry:
                origin.scheduler.submit_after(policy.backoff_s(retries_done), self._attempt)
                return
            origin.records.dead_letter(
                DeadLetterRecord(
                    event=self.event,
                    trigger=origin.trigger,
                    target=origin.dead_letter_target,
                    delivered=result.ok,
                    status=result.status,
                )
            )
            if result.ok:
                log.warning("dead-lettered %s from %s", self.event.id, origin.trigger)
            else:
                log.error(
                    "dead-letter sink refused %s from %s: %s; the event is lost",
                    self.event.id,
                    origin.trigger,
                    result.error,
                )
            origin.records.job_finished()
