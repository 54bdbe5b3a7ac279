"""Container log files in the kubelet's CRI format, with rotation.

Each container instance writes ``<dir>/<restartCount>.log``. Every record is one line::

    2026-11-25T09:30:00.123456789Z stdout F the text of the line

``F`` ends a line; ``P`` marks a piece of a longer line that continues in the next record. Lines
longer than 16 KiB are stored as ``P`` pieces plus a final ``F`` piece, as the container runtime
does, and re-joined when served. A last line without a trailing newline is stored as ``P``
pieces only and served as-is, without inventing a newline.

Every piece of one line carries the line's timestamp: the wall-clock time its newline (or the
end of the stream) was read from the pipe, optionally coarsened, and never earlier than the
previous line's, so file order is timestamp order. Pieces of one line are written together and
rotation happens only between lines, which keeps every file a sequence of whole lines.

Rotation follows the kubelet: when the next line would take the current file past
``max_bytes`` it is renamed to ``<n>.log.<UTC time>.<generation>`` and a new current file is
started; only ``max_files`` files (the current one included) are kept. Reads without ``follow``
see the current file only.
"""

from __future__ import annotations

import bisect
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import trio

from kubesim import timefmt

PIECE_BYTES = 16 * 1024

STDOUT = "stdout"
STDERR = "stderr"


@dataclass(frozen=True)
class OutputLine:
    """One line a container printed, as the ground-truth record keeps it."""

    ts_ns: int
    stream: str
    data: bytes
    newline: bool
    restart: int = 0

    @property
    def timestamp(self) -> str:
        """The RFC3339Nano timestamp the log API prints for this line."""
        return timefmt.format_nano(self.ts_ns)


class TimestampSource:
    """The wall clock, optionally coarsened so that many lines share one timestamp.

    Args:
        resolution_ns: timestamps are floored to a multiple of this.
        clock: nanoseconds since the epoch (``time.time_ns`` unless a test says otherwise).
    """

    def __init__(
        self, resolution_ns: int = 1, clock: Callable[[], int] = time.time_ns
    ) -> None:
        if resolution_ns < 1:
            raise ValueError("timestamp resolution must be at least 1 ns")
        self._resolution = resolution_ns
        self._clock = clock

    def now(self) -> int:
        """The current (coarsened) timestamp."""
        ns = self._clock()
        return ns - ns % self._resolution


def _encode_records(ts_text: bytes, stream: bytes, data: bytes, newline: bool) -> bytes:
    pieces = [data[i : i + PIECE_BYTES] for i in range(0, len(data), PIECE_BYTES)] or [b""]
    out = []
    for index, piece in enumerate(pieces):
        tag = b"F" if newline and index == len(pieces) - 1 else b"P"
        out.append(b"%s %s %s %s\n" % (ts_text, stream, tag, piece))
    return b"".join(out)


@dataclass
class LogFile:
    """One file of a container's log, with an index of where each line starts."""

    path: Path
    generation: int
    offsets: list[int] = field(default_factory=list)
    stamps: list[int] = field(default_factory=list)
    size: int = 0

    def line_count(self) -> int:
        """How many lines the file holds."""
        return len(self.offsets)

    def offset_of_line(self, index: int) -> int:
        """Byte offset where line ``index`` starts (the file size past the last line)."""
        return self.offsets[index] if index < len(self.offsets) else self.size

    def first_line_at_or_after(self, ts_ns: int) -> int:
        """Index of the first line whose timestamp is ``>= ts_ns``."""
        return bisect.bisect_left(self.stamps, ts_ns)


class ContainerLog:
    """The log of one container instance: files on disk plus a change signal for followers.

    Args:
        directory: where this container's files live (created if missing).
        restart: the instance number (``restartCount`` when it started).
        timestamps: the clock lines are stamped with.
        max_bytes: rotate the current file when it reaches this size (None: never).
        max_files: how many files to keep, the current one included.
        on_line: called with every line as it is written (the ground-truth record).
    """

    def __init__(
        self,
        directory: Path,
        *,
        restart: int = 0,
        timestamps: TimestampSource | None = None,
        max_bytes: int | None = None,
        max_files: int = 5,
        on_line: Callable[[OutputLine], None] | None = None,
    ) -> None:
        if max_files < 1:
            raise ValueError("max_files must be at least 1")
        self.directory = directory
        self.restart = restart
        self._timestamps = timestamps or TimestampSource()
        self._max_bytes = max_bytes
        self._max_files = max_files
        self._on_line = on_line
        self._last_ts = 0
        self._version = 0
        self._changed = trio.Event()
        self.closed = False
        directory.mkdir(parents=True, exist_ok=True)
        self.current = LogFile(directory / f"{restart}.log", generation=0)
        self._handle = self.current.path.open("ab", buffering=0)
        self._rotated: list[LogFile] = []

    def __repr__(self) -> str:
        return (
            f"<ContainerLog {self.current.path} lines={self.current.line_count()} "
            f"rotated={len(self._rotated)} closed={self.closed}>"
        )

    @property
    def version(self) -> int:
        """Bumped on every write, rotation and close."""
        return self._version

    def file(self, generation: int) -> LogFile | None:
        """The file of ``generation`` if it is still kept."""
        if generation == self.current.generation:
            return self.current
        for rotated in self._rotated:
            if rotated.generation == generation:
                return rotated
        return None

    def append(self, stream: str, data: bytes, *, newline: bool) -> OutputLine:
        """Write one line (``data`` without its newline) and return it as recorded."""
        if self.closed:
            raise RuntimeError(f"log {self.current.path} is closed")
        ts = max(self._timestamps.now(), self._last_ts)
        self._last_ts = ts
        record = _encode_records(
            timefmt.format_nano(ts).encode(), stream.encode(), data, newline
        )
        if (
            self._max_bytes is not None
            and self.current.size > 0
            and self.current.size + len(record) > self._max_bytes
        ):
            self.rotate()
        current = self.current
        self._handle.write(record)
        current.offsets.append(current.size)
        current.stamps.append(ts)
        current.size += len(record)
        line = OutputLine(ts, stream, data, newline, self.restart)
        if self._on_line is not None:
            self._on_line(line)
        self._bump()
        return line

    def rotate(self) -> None:
        """Start a new current file now, keeping at most ``max_files`` files."""
        old = self.current
        self._handle.close()
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        target = old.path.with_name(f"{old.path.name}.{stamp}.{old.generation:06d}")
        os.replace(old.path, target)
        old.path = target
        self._rotated.append(old)
        while len(self._rotated) > self._max_files - 1:
            dropped = self._rotated.pop(0)
            dropped.path.unlink(missing_ok=True)
        self.current = LogFile(self.directory / f"{self.restart}.log", old.generation + 1)
        self._handle = self.current.path.open("ab", buffering=0)
        if self.closed:
            self._handle.close()
        self._bump()

    def close(self) -> None:
        """Mark the container as exited: followers end once they have read everything."""
        self.closed = True
        self._handle.close()
        self._bump()

    def _bump(self) -> None:
        self._version += 1
        self._changed.set()
        self._changed = trio.Event()

    async def wait_change(self, seen_version: int) -> None:
        """Return once ``version`` has moved past ``seen_version``."""
        while self._version <= seen_version:
            await self._changed.wait()

    def remove_files(self) -> None:
        """Delete every kept file (the pod is gone)."""
        self._handle.close()
        for log_file in [*self._rotated, self.current]:
            log_file.path.unlink(missing_ok=True)


class GroundTruth:
    """Every line every container printed, across rotations and restarts, kept after deletion."""

    def __init__(self) -> None:
        self._lines: dict[tuple[str, str, str], list[OutputLine]] = {}
        self._count = 0
        self._changed = trio.Event()

    def __repr__(self) -> str:
        return f"<GroundTruth {len(self._lines)} containers, {self._count} lines>"

    @property
    def count(self) -> int:
        """How many lines have been recorded in total."""
        return self._count

    def recorder(self, namespace: str, pod: str, container: str) -> Callable[[OutputLine], None]:
        """A callback that records lines of one container."""
        lines = self._lines.setdefault((namespace, pod, container), [])

        def record(line: OutputLine) -> None:
            lines.append(line)
            self._count += 1
            self._changed.set()
            self._changed = trio.Event()

        return record

    async def wait_beyond(self, count: int) -> None:
        """Return once more than ``count`` lines have been recorded."""
        while self._count <= count:
            await self._changed.wait()

    def lines(self, namespace: str, pod: str, container: str) -> list[OutputLine]:
        """What this container printed, in order (empty if unknown)."""
        return list(self._lines.get((namespace, pod, container), []))

    def containers(self) -> list[tuple[str, str, str]]:
        """Every (namespace, pod, container) with a record."""
        return sorted(self._lines)
