"""How the reports write durations, byte counts and clock times for people."""

from __future__ import annotations

import datetime as dt


def duration(seconds: float) -> str:
    """A short duration: ``0.4s``, ``12.0s``, ``3m05s``, ``2h04m``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def offset(seconds: float) -> str:
    """A time since the run's first event: ``+12.0s``, ``+3m05s``."""
    return "+" + duration(seconds)


def size(nbytes: float) -> str:
    """A byte count: ``512 B``, ``4.2 KB``, ``31.0 MB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:.1f} {unit}"
    return f"{int(nbytes)} B"


def clock(ts: float) -> str:
    """A wall-clock time in UTC to the millisecond: ``2027-01-15 08:00:01.250Z``."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
