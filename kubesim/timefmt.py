"""Time on the Kubernetes wire: RFC3339 stamps, RFC3339Nano log prefixes, kubectl's ages.

Object timestamps (``creationTimestamp``, ``startTime`` …) carry whole seconds, like
``metav1.Time``. Log lines carry a fixed-width nine-digit fraction, the way the kubelet
prints them, so that lexical order equals time order. All values are UTC.
"""

from __future__ import annotations

import calendar
import re
import time

_NS_PER_S = 1_000_000_000

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))$"
)


def now_ns() -> int:
    """The wall clock in nanoseconds since the epoch."""
    return time.time_ns()


def format_seconds(ns: int) -> str:
    """Format a wall-clock instant as RFC3339 with whole seconds (``metav1.Time``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ns // _NS_PER_S))


def format_nano(ns: int) -> str:
    """Format a wall-clock instant as RFC3339Nano with a fixed nine-digit fraction."""
    seconds, fraction = divmod(ns, _NS_PER_S)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"


def now_seconds() -> str:
    """The current wall-clock time as an object timestamp."""
    return format_seconds(now_ns())


def parse(text: str) -> int:
    """Parse an RFC3339 / RFC3339Nano timestamp into nanoseconds since the epoch.

    Raises:
        ValueError: ``text`` is not an RFC3339 timestamp.
    """
    match = _RFC3339.match(text.strip())
    if match is None:
        raise ValueError(f"not an RFC3339 timestamp: {text!r}")
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    fraction = (match.group(7) or "").ljust(9, "0")
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    if match.group(9):
        offset = int(match.group(10)) * 3600 + int(match.group(11)) * 60
        seconds -= offset if match.group(9) == "+" else -offset
    return seconds * _NS_PER_S + int(fraction)


def floor_to_second(ns: int) -> int:
    """Drop the sub-second part, as a ``sinceTime`` query parameter does on the wire."""
    return ns - ns % _NS_PER_S


def human_duration(seconds: float) -> str:
    """Render a duration the way kubectl's AGE and DURATION columns do."""
    whole = int(seconds)
    if whole < -1:
        return "<invalid>"
    if whole < 0:
        return "0s"
    if whole < 120:
        return f"{whole}s"
    minutes = whole // 60
    if minutes < 10:
        rest = whole % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = whole // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    days = hours // 24
    if hours < 24 * 8:
        rest = hours % 24
        return f"{days}d{rest}h" if rest else f"{days}d"
    if hours < 24 * 365 * 2:
        return f"{days}d"
    years = days // 365
    if hours < 24 * 365 * 8:
        rest = days % 365
        return f"{years}y{rest}d" if rest else f"{years}y"
    return f"{years}y"
