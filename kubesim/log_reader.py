"""Reading a container log the way the kubelet serves ``GET …/pods/{name}/log``.

``tailLines`` picks the last lines of the current file, then ``sinceTime`` / ``sinceSeconds``
drops lines stamped earlier (the kubelet applies them in that order), then ``limitBytes`` caps
the body. Without ``follow`` only the current file is read. With ``follow`` the reader keeps
going as lines are written, through rotations (it finishes the file it was reading, then moves
to the next), and ends once the container has exited and everything is sent.

Timestamps are fixed-width, so the ``since`` filter compares them as text.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import BinaryIO

from kubesim import timefmt
from kubesim.logs import ContainerLog, LogFile

_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class LogQuery:
    """The pod-log options the reader honours (``previous`` and ``container`` pick the log)."""

    follow: bool = False
    timestamps: bool = False
    since_ns: int | None = None
    tail_lines: int | None = None
    limit_bytes: int | None = None


@dataclass(frozen=True)
class Chunk:
    """A piece of the response body; ``live`` once the initial backlog has been sent."""

    data: bytes
    live: bool


def render(blob: bytes, *, timestamps: bool, since_text: bytes | None) -> bytes:
    """Turn whole CRI records into the served text, re-joining pieces of long lines."""
    out: list[bytes] = []
    pieces: list[bytes] = []
    piece_stream = b""
    piece_ts = b""

    def emit(ts: bytes, text: bytes) -> None:
        if since_text is not None and ts < since_text:
            return
        out.append(ts + b" " + text if timestamps else text)

    for record in blob.split(b"\n")[:-1]:
        ts, stream, tag, content = record.split(b" ", 3)
        if pieces and stream != piece_stream:
            emit(piece_ts, b"".join(pieces))
            pieces = []
        if tag == b"P":
            if not pieces:
                piece_stream, piece_ts = stream, ts
            pieces.append(content)
            continue
        if pieces:
            emit(piece_ts, b"".join(pieces) + content + b"\n")
            pieces = []
        else:
            emit(ts, content + b"\n")
    if pieces:
        emit(piece_ts, b"".join(pieces))
    return b"".join(out)


class _FileCursor:
    """An open handle on one log file and how far it has been read."""

    def __init__(self, log_file: LogFile, offset: int) -> None:
        self.log_file = log_file
        self.position = offset
        self.handle: BinaryIO | None
        try:
            self.handle = log_file.path.open("rb")
            self.handle.seek(offset)
        except FileNotFoundError:
            self.handle = None

    def read_available(self) -> bytes:
        """Everything written to this file since the last read."""
        end = self.log_file.size
        if self.handle is None or end <= self.position:
            self.position = max(self.position, end)
            return b""
        data = self.handle.read(end - self.position)
        self.position = end
        return data

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


async def read_log(log: ContainerLog, query: LogQuery) -> AsyncGenerator[Chunk, None]:
    """Yield the served body of ``log`` for ``query`` in chunks.

    Resource handling: the generator holds an open file; close it (``aclosing``) when done.
    """
    since_text = None if query.since_ns is None else timefmt.format_nano(query.since_ns).encode()
    budget = query.limit_bytes
    current = log.current
    start_line = 0
    if query.tail_lines is not None:
        start_line = max(0, current.line_count() - query.tail_lines)
    if query.since_ns is not None:
        start_line = max(start_line, current.first_line_at_or_after(query.since_ns))
    cursor = _FileCursor(current, current.offset_of_line(start_line))
    live = False
    try:
        while True:
            seen_version = log.version
            raw = cursor.read_available()
            text = render(raw, timestamps=query.timestamps, since_text=since_text)
            if budget is not None:
                text = text[:budget]
                budget -= len(text)
            for start in range(0, len(text), _CHUNK_BYTES):
                yield Chunk(text[start : start + _CHUNK_BYTES], live)
            if budget == 0:
                return
            if not query.follow:
                return
            live = True
            if log.version != seen_version:
                continue  # written to (or rotated, or closed) while the chunks were sent
            if cursor.log_file is not log.current:
                following = log.file(cursor.log_file.generation + 1) or log.current
                cursor.close()
                cursor = _FileCursor(following, 0)
                continue
            if log.closed:
                return
            await log.wait_change(seen_version)
    finally:
        cursor.close()
