"""Delivery policy of a Broker or Trigger: retries, backoff, timeout, dead-letter sink.

Mirrors knative/eventing ``pkg/kncloudevents/retries.go``:

- ``SelectiveRetry``: a delivery is retried on connection errors, 5xx, 404, 408, 409
  and 429, never on other 4xx or on 3xx.
- Backoff before retry ``n`` (0 for the first retry, the way go-retryablehttp counts):
  ``delay * 2**n`` when exponential, ``delay * n`` when linear. So a linear policy
  retries the first time at once, exactly as Knative does.
- Backoff applies only when both ``backoffPolicy`` and ``backoffDelay`` are set;
  otherwise retries follow each other without a pause (Knative's zero backoff).
- ``timeout`` bounds each request, not the whole delivery.
- A Broker without ``delivery`` gets Knative's ``config-br-defaults``: 10 retries,
  exponential, PT0.2S. A Trigger with ``delivery`` replaces the Broker's as a whole
  (``subscribeToBrokerChannel`` in pkg/reconciler/broker/trigger does the same).

``Retry-After`` is ignored, as on Knative unless the alpha ``retryAfterMax`` is set.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass

KNATIVE_SERVICE_API = "serving.knative.dev/v1"

DEFAULT_REQUEST_TIMEOUT_S = 60.0
"""Knative sets no timeout when ``delivery.timeout`` is absent; a local worker thread
must not hang forever on a subscriber that never answers, so we cap it here."""

_NUMBER = r"\d+(?:\.\d+)?"
_DURATION = re.compile(
    rf"^P(?:(?P<weeks>{_NUMBER})W)?(?:(?P<days>{_NUMBER})D)?"
    rf"(?:T(?:(?P<hours>{_NUMBER})H)?(?:(?P<minutes>{_NUMBER})M)?(?:(?P<seconds>{_NUMBER})S)?)?$"
)
_SECONDS = {"weeks": 604800.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}


class PolicyError(ValueError):
    """A delivery spec the broker cannot honour; the message names its owner."""


class BackoffPolicy(enum.StrEnum):
    EXPONENTIAL = "exponential"
    LINEAR = "linear"


def parse_duration(text: str) -> float:
    """Seconds in an ISO-8601 duration such as ``PT0.2S``, ``PT1M30S`` or ``P1DT2H``.

    Years and months have no fixed length, so they are refused rather than guessed.
    """
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if match is None or not any(match.groupdict().values()) or text.strip().endswith("T"):
        raise ValueError(
            f"{text!r} is not an ISO-8601 duration of weeks/days/hours/minutes/seconds "
            "(e.g. PT0.2S, PT10S, PT1M)"
        )
    return sum(float(value) * _SECONDS[unit] for unit, value in match.groupdict().items() if value)


@dataclass(frozen=True)
class Destination:
    """Where to send: a Knative Service by name (plus an optional path), or a URL."""

    service: str | None = None
    uri: str | None = None

    def resolve(self, subscribers: Mapping[str, str]) -> str:
        if self.service is None:
            assert self.uri is not None  # parse_destination guarantees one of the two
            return self.uri
        try:
            base = subscribers[self.service]
        except KeyError:
            raise LookupError(f"no URL for Knative Service {self.service!r}") from None
        if not self.uri:
            return base
        return base.rstrip("/") + "/" + self.uri.lstrip("/")


@dataclass(frozen=True)
class DeliveryPolicy:
    retry: int = 0
    backoff_policy: BackoffPolicy | None = None
    backoff_delay_s: float | None = None
    timeout_s: float | None = None
    dead_letter: Destination | None = None

    def backoff_s(self, retry_index: int) -> float:
        """Pause before retry ``retry_index`` (0-based), as Knative computes it."""
        if self.backoff_policy is None or self.backoff_delay_s is None:
            return 0.0
        if self.backoff_policy is BackoffPolicy.EXPONENTIAL:
            return self.backoff_delay_s * float(2**retry_index)
        return self.backoff_delay_s * retry_index

    @property
    def request_timeout_s(self) -> float:
        return self.timeout_s if self.timeout_s is not None else DEFAULT_REQUEST_TIMEOUT_S


BROKER_DEFAULTS = DeliveryPolicy(
    retry=10, backoff_policy=BackoffPolicy.EXPONENTIAL, backoff_delay_s=0.2
)
"""Knative's shipped ``config-br-defaults`` delivery for a Broker without one."""


def is_retriable(status: int | None) -> bool:
    """Knative's SelectiveRetry; ``None`` stands for a connection error or timeout."""
    if status is None:
        return True
    return status >= 500 or status in (404, 408, 409, 429)


def parse_destination(spec: object, *, owner: str) -> Destination:
    if not isinstance(spec, Mapping):
        raise PolicyError(f"{owner}: a destination must be a mapping with 'ref' and/or 'uri'")
    ref, uri = spec.get("ref"), spec.get("uri")
    if uri is not None and not isinstance(uri, str):
        raise PolicyError(f"{owner}: destination 'uri' must be a string")
    if ref is None:
        if not uri or not uri.startswith(("http://", "https://")):
            raise PolicyError(
                f"{owner}: a destination without 'ref' needs an absolute http(s) 'uri'"
            )
        return Destination(uri=uri)
    if not isinstance(ref, Mapping):
        raise PolicyError(f"{owner}: destination 'ref' must be a mapping")
    kind, api, name = ref.get("kind"), ref.get("apiVersion"), ref.get("name")
    if kind != "Service" or api != KNATIVE_SERVICE_API or not isinstance(name, str) or not name:
        raise PolicyError(
            f"{owner}: the local broker delivers only to Knative Services "
            f"(ref apiVersion {KNATIVE_SERVICE_API}, kind Service, a name); got "
            f"apiVersion={api!r} kind={kind!r} name={name!r}"
        )
    if uri is not None and uri.startswith(("http://", "https://")):
        raise PolicyError(f"{owner}: with a 'ref', 'uri' must be a relative path, got {uri!r}")
    return Destination(service=name, uri=uri or None)


def _duration_field(spec: Mapping[str, object], key: str, *, owner: str) -> float | None:
    value = spec.get(key)
    if value is None:
        return None
    try:
        return parse_duration(str(value))
    except ValueError as exc:
        raise PolicyError(f"{owner}: delivery.{key}: {exc}") from None


def parse_delivery(spec: object, *, owner: str) -> DeliveryPolicy:
    """The policy of a ``delivery:`` block; ``owner`` names the manifest in errors."""
    if not isinstance(spec, Mapping):
        raise PolicyError(f"{owner}: 'delivery' must be a mapping")
    known = {"retry", "backoffPolicy", "backoffDelay", "timeout", "deadLetterSink"}
    unknown = sorted(set(spec) - known)
    if unknown:
        raise PolicyError(f"{owner}: delivery fields not supported locally: {unknown}")
    retry = spec.get("retry", 0)
    if not isinstance(retry, int) or isinstance(retry, bool) or retry < 0:
        raise PolicyError(f"{owner}: delivery.retry must be a whole number >= 0, got {retry!r}")
    raw_policy = spec.get("backoffPolicy")
    try:
        policy = None if raw_policy is None else BackoffPolicy(str(raw_policy))
    except ValueError:
        raise PolicyError(
            f"{owner}: delivery.backoffPolicy must be 'exponential' or 'linear', got {raw_policy!r}"
        ) from None
    sink = spec.get("deadLetterSink")
    return DeliveryPolicy(
        retry=retry,
        backoff_policy=policy,
        backoff_delay_s=_duration_field(spec, "backoffDelay", owner=owner),
        timeout_s=_duration_field(spec, "timeout", owner=owner),
        dead_letter=None
        if sink is None
        else parse_destination(sink, owner=f"{owner} deadLetterSink"),
    )
