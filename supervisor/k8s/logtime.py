"""Kubernetes log timestamps: RFC3339Nano prefixes, compared exactly in nanoseconds.

The kubelet writes each line as ``<RFC3339Nano> <text>`` when ``timestamps=true``.
RFC3339Nano drops trailing zeros of the fraction, so timestamps are compared as integers,
never as strings. ``sinceTime`` on the wire has one-second granularity.
"""

from __future__ import annotations

import calendar
import re
import time

_STAMP = re.compile(rb"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$")


class BadTimestamp(ValueError):
    pass


def parse_ns(stamp: bytes | str) -> int:
    """Nanoseconds since the epoch for an RFC3339(Nano) timestamp."""
    raw = stamp.encode() if isinstance(stamp, str) else stamp
    match = _STAMP.match(raw)
    if match is None:
        raise BadTimestamp(f"not an RFC3339 timestamp: {raw[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or b""
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = match.group(8)
    if zone != b"Z":
        sign = 1 if zone[:1] == b"+" else -1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds * 1_000_000_000 + int(fraction.ljust(9, b"0") or b"0")


def since_time(stamp: str) -> str:
    """The ``sinceTime`` to ask for to see ``stamp`` again: its second, floored."""
    seconds = parse_ns(stamp) // 1_000_000_000
    year, month, day, hour, minute, second = time.gmtime(seconds)[:6]
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}Z"


def split_line(line: bytes) -> tuple[str, bytes]:
    """``(timestamp, text)`` of a timestamped log line; text keeps its line ending."""
    space = line.find(b" ")
    if space <= 0:
        stripped = line.rstrip(b"\r\n")
        parse_ns(stripped)  # an empty line printed by the pod: "<ts>\n"
        return stripped.decode(), line[len(stripped):]
    stamp = line[:space]
    parse_ns(stamp)
    return stamp.decode(), line[space + 1:]
