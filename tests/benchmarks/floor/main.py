"""The cheapest CloudEvent function functions-framework can serve: it ignores the event."""

from __future__ import annotations

import functions_framework
from cloudevents.http import CloudEvent


@functions_framework.cloud_event
def handle(cloud_event: CloudEvent) -> None:
    del cloud_event
