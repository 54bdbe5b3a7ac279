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


# "YYYY-MM-DDTHH:MM:SS" -> epoch seconds, for UTC stamps already parsed once: consecutive log
# lines share their second, so the regex and timegm run about once per second of output.
_UTC_SECONDS: dict[bytes, int] = {}
_UTC_SECONDS_MAX = 4096


def parse_ns(stamp: bytes | str) -> int:
    """Nanoseconds since the epoch for an RFC3339(Nano) timestamp."""
    raw = stamp.encode() if isinstance(stamp, str) else stamp
    seconds = _UTC_SECONDS.get(raw[:19])
    if seconds is not None:
        rest = raw[19:]
        if rest == b"Z":
            return seconds * 1_000_000_000
        digits = rest[1:-1]
        if rest[:1] == b"." and rest[-1:] == b"Z" and 0 < len(digits) <= 9 and digits.isdigit():
            return seconds * 1_000_000_000 + int(digits.ljust(9, b"0"))
    match = _STAMP.match(raw)
    if match is None:
        raise BadTimestamp(f"not an RFC3339 timestamp: {raw[:40]!r}")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction = match.group(7) or b""
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    zone = match.group(8)
    if zone == b"Z":
        if len(_UTC_SECONDS) >= _UTC_SECONDS_MAX:
            _UTC_SECONDS.clear()
        _UTC_SECONDS[raw[:19]] = seconds
    else:
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
    stamp, _ns, text = split_line_ns(line)
    return stamp, text


def split_line_ns(line: bytes) -> tuple[str, int, bytes]:
    """``(timestamp, its nanoseconds, text)`` of a timestamped log line (parsed once)."""
    space = line.find(b" ")
    if space <= 0:
        stripped = line.rstrip(b"\r\n")
        ns = parse_ns(stripped)  # an empty line printed by the pod: "<ts>\n"
        return stripped.decode(), ns, line[len(stripped):]
    stamp = line[:space]
    return stamp.decode(), parse_ns(stamp), line[space + 1:]
