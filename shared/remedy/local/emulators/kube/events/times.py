"""``metav1.Time`` and ``metav1.MicroTime`` on the wire, parsed as the apiserver does.

An Event carries both: ``firstTimestamp``/``lastTimestamp`` (and their
``deprecated…`` twins) are ``Time`` — RFC 3339, any fraction accepted and dropped,
written back in seconds; ``eventTime`` and ``series.lastObservedTime`` are
``MicroTime`` — parsed with the layout ``2006-01-02T15:04:05.000000Z07:00`` and
nothing else, so exactly six fractional digits are required (``…:05Z`` and
``…:05.123Z`` are rejected; so is Python's ``datetime.isoformat()`` of a datetime
whose ``microsecond`` is 0). Both are written in UTC, and the zero time (year 1) is
written as ``null``. Parse failures carry Go's ``time.Parse`` error text, which the
apiserver puts in its 400.
"""

from __future__ import annotations

import calendar
import datetime

TIME_LAYOUT = "2006-01-02T15:04:05Z07:00"
MICRO_LAYOUT = "2006-01-02T15:04:05.000000Z07:00"
_ZERO = datetime.datetime(1, 1, 1, tzinfo=datetime.UTC)
# The layouts' elements up to the seconds: (element, digits; 0 for a literal).
_ELEMENTS = (
    ("2006", 4),
    ("-", 0),
    ("01", 2),
    ("-", 0),
    ("02", 2),
    ("T", 0),
    ("15", 2),
    (":", 0),
    ("04", 2),
    (":", 0),
    ("05", 2),
)


class TimeError(ValueError):
    """A value ``time.Parse`` rejects; ``str()`` is Go's message."""


def _error(value: str, layout: str, rest: str, element: str) -> TimeError:
    return TimeError(f'parsing time "{value}" as "{layout}": cannot parse "{rest}" as "{element}"')


def _range(value: str, what: str) -> TimeError:
    return TimeError(f'parsing time "{value}": {what} out of range')


def _parse(value: str, *, micro: bool) -> datetime.datetime:
    """``time.Parse(RFC3339 or RFC3339Micro, value)``, element by element."""
    layout = MICRO_LAYOUT if micro else TIME_LAYOUT
    rest = value
    numbers: list[int] = []
    for element, width in _ELEMENTS:
        if not width:
            if not rest.startswith(element):
                raise _error(value, layout, rest, element)
            rest = rest[1:]
            continue
        digits = rest[:width]
        if element == "15" and len(digits) == 2 and not digits[1].isdigit():
            digits = digits[:1]  # the hour takes one or two digits
        if not digits or not digits.isdigit() or (element != "15" and len(digits) < width):
            raise _error(value, layout, rest, element)
        numbers.append(int(digits))
        rest = rest[len(digits) :]
    year, month, day, hour, minute, second = numbers
    for what, number, low, high in (
        ("month", month, 1, 12),
        ("hour", hour, 0, 23),
        ("minute", minute, 0, 59),
        ("second", second, 0, 59),
    ):
        if not low <= number <= high:
            raise _range(value, what)
    micros, rest = _fraction(value, layout, rest, micro=micro)
    offset, rest = _zone(value, layout, rest)
    if rest:
        raise TimeError(f'parsing time "{value}": extra text: "{rest}"')
    if not 1 <= day <= calendar.monthrange(year or 4, month)[1]:
        raise _range(value, "day")
    zone = datetime.timezone(datetime.timedelta(minutes=offset))
    stamp = datetime.datetime(max(year, 1), month, day, hour, minute, second, micros, zone)
    return stamp.astimezone(datetime.UTC)


def _fraction(value: str, layout: str, rest: str, *, micro: bool) -> tuple[int, str]:
    if micro:
        if len(rest) < 7 or rest[0] not in ".," or not rest[1:7].isdigit():
            raise _error(value, layout, rest, ".000000")
        return int(rest[1:7]), rest[7:]
    if len(rest) > 1 and rest[0] in ".," and rest[1].isdigit():
        end = 1
        while end < len(rest) and rest[end].isdigit():
            end += 1
        return int(rest[1:end][:6].ljust(6, "0")), rest[end:]
    return 0, rest


def _zone(value: str, layout: str, rest: str) -> tuple[int, str]:
    """``Z07:00``: ``Z`` or ``±hh:mm``; returns the offset in minutes."""
    if rest.startswith("Z"):
        return 0, rest[1:]
    sign, hours, colon, minutes = rest[:1], rest[1:3], rest[3:4], rest[4:6]
    if (
        len(rest) < 6
        or sign not in ("+", "-")
        or colon != ":"
        or not (hours.isdigit() and minutes.isdigit())
    ):
        raise _error(value, layout, rest, "Z07:00")
    if int(hours) > 24:
        raise _range(value, "time zone offset hour")
    if int(minutes) > 60:
        raise _range(value, "time zone offset minute")
    offset = int(hours) * 60 + int(minutes)
    return (offset if sign == "+" else -offset), rest[6:]


def normalized(value: object, *, micro: bool) -> str | None:
    """The value as the apiserver writes it back; None for ``null`` and the zero time.

    Raises :class:`TimeError` for a string ``time.Parse`` rejects and ``TypeError``
    for a JSON value that is not a string (the caller words both).
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    stamp = _parse(value, micro=micro)
    if not micro:
        stamp = stamp.replace(microsecond=0)
    if stamp == _ZERO:
        return None
    text = (
        f"{stamp.year:04d}-{stamp.month:02d}-{stamp.day:02d}"
        f"T{stamp.hour:02d}:{stamp.minute:02d}:{stamp.second:02d}"
    )
    return f"{text}.{stamp.microsecond:06d}Z" if micro else f"{text}Z"


def go_string(value: str | None) -> str:
    """``time.Time.String()`` of a normalized value, as field errors print times."""
    if value is None:
        return "0001-01-01 00:00:00 +0000 UTC"
    stamp = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    text = f"{stamp.date().isoformat()} {stamp.time().replace(microsecond=0).isoformat()}"
    if stamp.microsecond:
        text += ("." + f"{stamp.microsecond:06d}").rstrip("0")
    return text + " +0000 UTC"
