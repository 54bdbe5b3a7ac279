"""Reading a process's memory and CPU from ``/proc`` (Linux), for figures about the daemon.

Why this module exists: the daemon's footprint must be measured from outside, as an operator
would see it, so the daemon runs as its own process and these readings come from the kernel.
"""

from __future__ import annotations

import os
import platform
import sqlite3
from dataclasses import dataclass

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ProcessGone(Exception):
    """The process no longer exists (or ``/proc`` is not available)."""


@dataclass(frozen=True)
class Memory:
    """Resident memory in bytes: now (VmRSS) and the high-water mark (VmHWM)."""

    rss: int
    hwm: int


def memory(pid: int) -> Memory:
    """The process's resident set size now and at its peak.

    Raises:
        ProcessGone: no such process.
    """
    fields: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    fields[key] = int(value.split()[0]) * 1024  # reported in kB
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(f"process {pid} is gone") from exc
    return Memory(rss=fields.get("VmRSS", 0), hwm=fields.get("VmHWM", 0))


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far, in seconds.

    Raises:
        ProcessGone: no such process.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            text = fh.read()
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise ProcessGone(f"process {pid} is gone") from exc
    # The command name (field 2) may contain spaces; the numeric fields follow its ")".
    rest = text.rsplit(")", 1)[1].split()
    utime, stime = int(rest[11]), int(rest[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / _CLOCK_TICKS


def machine() -> str:
    """One line describing where the figures were measured."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        ram_text = f"{ram:.0f} GiB RAM"
    except (ValueError, OSError):
        ram_text = "RAM unknown"
    return (f"{model}, {os.cpu_count()} cores, {ram_text}, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}")
