"""Turning HTTP requests into CloudEvents and remedy's events into HTTP replies.

Both content modes are accepted on the way in (binary and structured, as Knative and
GitHubSource send them); replies go out in binary mode, which a Knative broker routes
back in as a new event. Decoding failures become :class:`BadEvent` with a reason.

JSON is parsed as untrusted input (:mod:`remedy.untrusted_json`): a structured event or
binary-mode JSON data nested too deeply is a :class:`BadEvent`, never a
``RecursionError`` out of the SDK's own ``json.loads``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cloudevents.conversion import to_binary
from cloudevents.exceptions import GenericException
from cloudevents.http import CloudEvent, from_http
from cloudevents.sdk.converters import is_binary

from remedy import untrusted_json

if TYPE_CHECKING:  # the models load pydantic: webhook-gateway encodes, never models
    from remedy.events.models import TaskEvent

SOURCE_PREFIX = "/remedy/"
"""``source`` of every event a remedy function emits: ``/remedy/<function-name>``."""


class BadEvent(ValueError):
    """The request is not a usable CloudEvent; the message says why."""


class UnreadableEvent(ValueError):
    """The event's data is not a GitHub payload remedy can read; the message says why.

    Raised by :mod:`remedy.events.github`, caught at every function's edge; defined here
    so that the edge need not import the payload models (pydantic classes built at
    import: ~45 ms of a cold start) into functions that never read a GitHub payload.
    """


def decode(headers: Mapping[str, str], body: bytes) -> CloudEvent:
    try:
        if not is_binary(headers):
            # structured mode: the SDK parses the envelope with a bare json.loads
            untrusted_json.loads(body)
        event = from_http(dict(headers), body, data_unmarshaller=_data)
    except untrusted_json.NotJson as exc:
        raise BadEvent(f"not a CloudEvent: the body is not JSON: {exc}") from None
    except GenericException as exc:
        # the SDK wraps what the data unmarshaller raised; its message is the useful one
        if isinstance(exc.__context__, untrusted_json.TooDeep):
            raise BadEvent(f"the event data is not JSON: {exc.__context__}") from None
        raise BadEvent(f"not a CloudEvent: {exc}") from exc
    except ValueError as exc:
        raise BadEvent(f"not a CloudEvent: {exc}") from exc
    return event


def _data(content: str | bytes | None) -> Any:
    """The SDK's default data reading (JSON if it parses, else as sent), depth-limited."""
    if content is None:
        return None
    try:
        return untrusted_json.loads(content)
    except untrusted_json.TooDeep:
        raise
    except untrusted_json.NotJson:
        return content


def encode_binary(event: CloudEvent) -> tuple[dict[str, str], bytes]:
    headers, body = to_binary(event)
    return dict(headers), body if isinstance(body, bytes) else str(body).encode()


def subject_for(repository: str, task_id: int) -> str:
    return f"{repository}/tasks/{task_id}"


def task_event(data: TaskEvent, *, producer: str, event_id: str, traceparent: str) -> CloudEvent:
    """A remedy event: envelope fields mirrored as extensions so Triggers can filter."""
    attributes: dict[str, Any] = {
        "type": data.event_type,
        "source": SOURCE_PREFIX + producer,
        "id": event_id,
        "subject": subject_for(data.repository, data.task_id),
        "datacontenttype": "application/json",
        "taskid": str(data.task_id),
        "epoch": str(data.epoch),
        "correlationid": data.correlation_id,
        "traceparent": traceparent,
    }
    return CloudEvent(attributes, data.model_dump(mode="json"))


def event_id(correlation_id: str, step: str) -> str:
    """Deterministic ids: a replayed step emits an identical event, deduplicable by id."""
    return f"{correlation_id}:{step}"
