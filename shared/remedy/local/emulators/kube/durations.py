"""Ages as kubectl and the apiserver print them ("5m", "3h2m", "<unknown>").

``human_duration`` is apimachinery's ``duration.HumanDuration``; ``since`` is the
printers' ``translateTimestampSince``: the age of an RFC 3339 timestamp, or
``<unknown>`` when there is none. Server-side tables (``tables``, and the Event
printer in ``events.printing``) fill their age columns with these.
"""

from __future__ import annotations

import calendar
import time


def human_duration(seconds: float) -> str:
    """``duration.HumanDuration``, the age format of kubectl and the apiserver."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 192:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y" if days == 0 else f"{hours // 24 // 365}y{days}d"
    return f"{hours // 24 // 365}y"


def since(stamp: object) -> str:
    """The age of an RFC 3339 timestamp; ``<unknown>`` for none."""
    if not isinstance(stamp, str) or not stamp:
        return "<unknown>"
    try:
        parsed = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return "<invalid>"
    return human_duration(time.time() - parsed)
