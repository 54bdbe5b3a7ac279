"""Log followers: carry a pod's output into the event log exactly once.

Two sources, one contract. Each batch of complete lines becomes a ``log.chunk`` event
whose cursor says where the batch ends in its source, committed in the same row as the
text (design invariant 3). A follower started again from the cursor in the log — after
a dropped stream, a stall, or a daemon restart — asks its source for what comes after
and drops every line at or before the cursor, JSON or not:

* **pod-log API** (``follow=true&timestamps=true``): the cursor is the last line's
  RFC3339Nano timestamp plus how many lines carried exactly that timestamp. ``sinceTime``
  has one-second granularity, so we ask from the floor of the cursor's second and skip
  lines older than the cursor, and the first ``count`` lines sharing its timestamp.
* **a file on the shared volume** (the run's ``tee``): the cursor is the byte offset just
  past the last complete line.

A follower returns once the container has exited and its output is drained: a stream
that ends while the container still runs is reopened (with capped backoff), a stream
that stays silent for ``stall_timeout`` is presumed hung and reopened, and once the
container is known to be done a silent stream is abandoned after ``bail_timeout`` and
one more drain pass is made, so a hung stream can never hold a finished run.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import msgspec
import trio

from events import state, types
from supervisor.engine.writer import EventWriter
from supervisor.k8s import api, errors, logtime
from supervisor.streamjson import LineSplitter, split_lines

# One event holds at most this much text unless a single line is longer.
MAX_CHUNK_BYTES = 256 * 1024
# Network reads buffered while an append is being committed: the stream keeps flowing, and
# the next append takes all of them at once (one commit per burst, not per socket read).
READ_AHEAD_CHUNKS = 32
# The tee file is read in slices of at most this size (memory stays bounded by this
# plus the longest line, however much output waits after a restart).
FILE_READ_BYTES = 4 * 1024 * 1024

log = logging.getLogger(__name__)

LinesCallback = Callable[[list[bytes]], None]


class FollowSettings(msgspec.Struct, frozen=True):
    stall_timeout: float = 120.0
    bail_timeout: float = 3.0
    reconnect_delay: float = 0.5
    max_reconnect_delay: float = 10.0
    max_final_passes: int = 5
    file_poll: float = 0.25
    file_idle_poll: float = 1.0
    file_appear_timeout: float = 30.0


class FollowResult(msgspec.Struct):
    """How following ended: ``drained`` (all output read), ``incomplete`` (the source kept
    breaking after the container exited) or ``source_gone`` (the pod or file vanished)."""

    outcome: str
    reconnects: int = 0
    detail: str = ""


class _Position:
    """The cursor while following (the API source)."""

    def __init__(self, cursor: state.Cursor) -> None:
        self.time = cursor.time
        self.ns = logtime.parse_ns(cursor.time) if cursor.time else -1
        self.count = cursor.count


class _PassFilter:
    """Decides, for one stream opened from the cursor, which lines are new.

    Lines older than the cursor's timestamp are old; of the lines sharing it, the first
    ``count`` were already recorded; everything after is new.
    """

    def __init__(self, position: _Position) -> None:
        self.start_ns = position.ns
        self.start_time = position.time
        self.start_count = position.count
        self.seen_at_start = 0
        self.first_checked = False

    def rotated_past(self, ns: int) -> bool:
        """True if the stream's first line is newer than the cursor line.

        The stream was asked from the floor of the cursor's second, so it begins with the
        cursor line itself whenever the kubelet still has it; if it does not, the log was
        rotated after the cursor and whatever lay between is out of reach.
        """
        if self.first_checked:
            return False
        self.first_checked = True
        return self.start_ns >= 0 and ns > self.start_ns

    def is_new(self, ns: int) -> bool:
        if ns < self.start_ns:
            return False
        if ns == self.start_ns:
            self.seen_at_start += 1
            return self.seen_at_start > self.start_count
        return True


class ApiLogFollower:
    """Follows one container's log through the pod-log API."""

    def __init__(self, *, kube: api.KubeAPI, writer: EventWriter, run_id: str, namespace: str,
                 pod: str, container: str, cursor: state.Cursor,
                 container_done: Callable[[], bool], on_lines: LinesCallback,
                 settings: FollowSettings | None = None) -> None:
        self.kube = kube
        self.writer = writer
        self.run_id = run_id
        self.namespace = namespace
        self.pod = pod
        self.container = container
        self.position = _Position(cursor)
        self.container_done = container_done
        self.on_lines = on_lines
        self.settings = settings or FollowSettings()
        self.reconnects = 0

    async def run(self) -> FollowResult:
        delay = self.settings.reconnect_delay
        final_passes = 0
        while True:
            done_before = self.container_done()
            try:
                taken, ended, reason = await self._one_pass(final=done_before)
            except errors.NotFound as exc:
                return FollowResult("source_gone", self.reconnects, str(exc))
            if done_before:
                # The container had exited before this pass began: a clean pass that
                # brought nothing new means everything it printed is in the log.
                final_passes += 1
                if ended and taken == 0:
                    return FollowResult("drained", self.reconnects)
                if final_passes >= self.settings.max_final_passes:
                    return FollowResult("incomplete", self.reconnects,
                                        f"{final_passes} drain passes after the container exited "
                                        f"never reached a clean end: {reason}")
            if ended and self.container_done():
                continue  # one more pass from the cursor proves the drain
            self.reconnects += 1
            await self.writer.append(types.LogReconnected(
                run_id=self.run_id, ts=time.time(), attempt=self.reconnects, reason=reason,
                since_time=logtime.since_time(self.position.time) if self.position.time else ""))
            if done_before or self.container_done():
                continue  # draining: no backoff, the source is not going to grow
            await trio.sleep(0 if taken else delay)
            delay = self.settings.reconnect_delay if taken else min(
                self.settings.max_reconnect_delay, delay * 2)

    async def _one_pass(self, *, final: bool) -> tuple[int, bool, str]:
        """Read one stream; returns (lines taken, ended cleanly, why it ended)."""
        params: dict[str, Any] = {"container": self.container, "follow": "true",
                                  "timestamps": "true"}
        if self.position.time:
            params["sinceTime"] = logtime.since_time(self.position.time)
        splitter = LineSplitter()
        taken = 0
        fresh = _PassFilter(self.position)
        try:
            async with self.kube.stream(self.kube.log_path(self.namespace, self.pod), params,
                                        read_timeout=None) as chunks:
                send, receive = trio.open_memory_channel[bytes | errors.APIError | None](
                    READ_AHEAD_CHUNKS)
                held: list[bytes | errors.APIError | None] = []
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(_pump, chunks, send)
                    quiet_since = trio.current_time()
                    while True:
                        # Only the wait for bytes is timed; handling them never is, so an
                        # append is never abandoned half-way by a timer.
                        got_chunk = False
                        if held:
                            chunk, got_chunk = held.pop(), True
                        else:
                            with trio.move_on_after(self.settings.bail_timeout):
                                chunk = await receive.receive()
                                got_chunk = True
                        if got_chunk:
                            quiet_since = trio.current_time()
                            if isinstance(chunk, errors.APIError):
                                nursery.cancel_scope.cancel()
                                return taken, False, str(chunk)
                            if chunk is None:
                                rest = splitter.flush()
                                if rest is not None and (final or self.container_done()):
                                    taken += await self._take([rest], fresh)
                                nursery.cancel_scope.cancel()
                                return taken, True, "stream ended"
                            burst = [chunk]
                            while True:  # whatever was read meanwhile joins this append
                                try:
                                    more = receive.receive_nowait()
                                except trio.WouldBlock:
                                    break
                                if not isinstance(more, bytes):
                                    held.append(more)  # the end or an error: handled next
                                    break
                                burst.append(more)
                            taken += await self._take(splitter.feed(b"".join(burst)), fresh)
                            continue
                        quiet = trio.current_time() - quiet_since
                        if final or self.container_done():
                            nursery.cancel_scope.cancel()
                            return taken, False, f"silent {quiet:.1f}s after the container exited"
                        if quiet >= self.settings.stall_timeout:
                            nursery.cancel_scope.cancel()
                            return taken, False, f"stalled: no bytes for {quiet:.0f}s"
        except errors.TransientAPIError as exc:
            return taken, False, str(exc)
        except errors.APIError as exc:
            if exc.status == 400:  # container not started yet, or already gone from the node
                return taken, False, str(exc)
            raise
        raise AssertionError("unreachable")

    async def _take(self, raw_lines: list[bytes], fresh: _PassFilter) -> int:
        """Drop lines at or before the cursor, append the rest; returns how many were new."""
        pos = self.position
        batch: list[tuple[types.Event, bytes | None]] = []
        texts: list[bytes] = []
        new_texts: list[bytes] = []
        size = 0
        first_time = ""
        for raw in raw_lines:
            try:
                stamp, ns, text = logtime.split_line_ns(raw)
            except logtime.BadTimestamp:
                continue  # not a kubelet line (should not happen); never invent a timestamp
            if fresh.rotated_past(ns):
                batch.append((types.OutputGap(
                    run_id=self.run_id, ts=time.time(),
                    reason="the kubelet rotated the container log past the cursor: lines "
                           "printed between these times and no longer in its current file "
                           "are lost (there may be none)",
                    from_time=fresh.start_time, to_time=stamp), b""))
            if not fresh.is_new(ns):
                continue
            if ns == pos.ns:
                pos.count += 1
            else:
                pos.ns, pos.time, pos.count = ns, stamp, 1
            first_time = first_time or stamp
            texts.append(text)
            new_texts.append(text)
            size += len(text)
            if size >= MAX_CHUNK_BYTES:
                batch.append(self._chunk(texts, first_time))
                texts, size, first_time = [], 0, ""
        if texts:
            batch.append(self._chunk(texts, first_time))
        # Shielded: once lines are handed to the writer they will be in the log, so the
        # parser must see them too, even if this task is being cancelled right now.
        with trio.CancelScope(shield=True):
            await self.writer.append_many(batch)
            if new_texts:
                self.on_lines(new_texts)
        return len(new_texts)

    def _chunk(self, texts: list[bytes], first_time: str) -> tuple[types.LogChunk, bytes]:
        data = b"".join(texts)
        return types.LogChunk(
            run_id=self.run_id, ts=time.time(), stream="stdout", lines=len(texts), nbytes=len(data),
            cursor_time=self.position.time, cursor_count=self.position.count,
            first_time=first_time), data


async def _pump(chunks: AsyncIterator[bytes],
                send: trio.MemorySendChannel[bytes | errors.APIError | None]) -> None:
    """Move a stream's chunks into a channel; None marks a clean end, an error a broken one."""
    async with send:
        try:
            async for chunk in chunks:
                await send.send(chunk)
        except errors.APIError as exc:
            await send.send(exc)
        else:
            await send.send(None)


class FileLogFollower:
    """Tails the run's ``tee`` file on the shared volume by byte offset.

    ``offset`` is the cursor: the byte just past the last line in the event log. Bytes read
    beyond it that do not end a line yet wait in ``pending`` until their newline arrives, or
    until the container has exited and the file has stopped growing, when they are taken as
    the unterminated last line. The file is read in slices of at most ``FILE_READ_BYTES``, so
    a long backlog (after a restart) never has to fit in memory at once.

    How it ends: ``drained`` once the container has exited and the file's size held still
    for two polls; ``incomplete`` when output is known to be missing (the file never appeared
    although the container exited, or it shrank under us: truncated or replaced);
    ``source_gone`` when the file vanished after it had been read.
    """

    def __init__(self, *, writer: EventWriter, run_id: str, path: str, cursor: state.Cursor,
                 container_done: Callable[[], bool], on_lines: LinesCallback,
                 settings: FollowSettings | None = None) -> None:
        self.writer = writer
        self.run_id = run_id
        self.path = path
        self.offset = max(0, cursor.offset)
        self.pending = bytearray()
        self.container_done = container_done
        self.on_lines = on_lines
        self.settings = settings or FollowSettings()

    @property
    def read_to(self) -> int:
        """How far into the file has been read (the cursor plus the pending partial line)."""
        return self.offset + len(self.pending)

    async def run(self) -> FollowResult:
        """Follow the file until the container has exited and everything it wrote is logged."""
        missing = await self._wait_for_file()
        if missing is not None:
            return missing
        poll = self.settings.file_poll
        idle = 0
        stable_sizes = 0
        last_size = -1
        while True:
            # Asked before the size is read: a container that is done by then has written
            # everything this size shows, apart from what a lagging shared filesystem hides.
            done = self.container_done()
            size = await trio.to_thread.run_sync(_file_size, self.path)
            if size is None:
                return FollowResult("source_gone", 0,
                                    f"log file {self.path} vanished after {self.read_to} bytes")
            if size < self.read_to:
                return FollowResult("incomplete", 0,
                                    f"log file {self.path} shrank to {size} bytes after "
                                    f"{self.read_to} had been read: it was truncated or replaced")
            if size > self.read_to:
                await self._read_to(size)
                idle, poll = 0, self.settings.file_poll
            else:
                idle += 1
                if idle >= 5:
                    poll = self.settings.file_idle_poll
            if done:
                # Final drain: shared filesystems may lag; stop when the size held still twice.
                stable_sizes = stable_sizes + 1 if size == last_size else 0
                if stable_sizes >= 2:
                    await self._take_unterminated_rest()
                    return FollowResult("drained")
                poll = self.settings.file_poll
            last_size = size
            await trio.sleep(poll)

    async def _wait_for_file(self) -> FollowResult | None:
        """Wait for the pod to create the file; a result when it never will.

        While the container runs there is no limit: the pod creates the file only after its
        preflight steps (the dind socket wait alone may take 30 s), and the run's own deadline
        bounds the wait. Once the container has exited, a shared filesystem gets
        ``bail_timeout`` to show the file before its output is declared missing.
        """
        started = trio.current_time()
        done_at: float | None = None
        warned = False
        # Polled: the file is written by a pod through a shared filesystem.
        while True:
            done = self.container_done()
            if await trio.to_thread.run_sync(_file_size, self.path) is not None:
                return None
            now = trio.current_time()
            if done:
                done_at = now if done_at is None else done_at
                if now - done_at >= self.settings.bail_timeout:
                    return FollowResult(
                        "incomplete", 0,
                        f"the container exited but its log file never appeared at {self.path} "
                        "(is shared_volume_host_dir where the daemon sees the workspace "
                        "volume's root?)")
            elif not warned and now - started >= self.settings.file_appear_timeout:
                warned = True
                log.warning("run %s: log file %s has not appeared after %.0fs; still waiting "
                            "while the container runs", self.run_id, self.path, now - started)
            await trio.sleep(self.settings.file_poll)

    async def _read_to(self, size: int) -> None:
        """Read the file up to ``size`` and log every line completed on the way."""
        while self.read_to < size:
            start = self.read_to
            data = await trio.to_thread.run_sync(
                _read_range, self.path, start, min(size, start + FILE_READ_BYTES))
            if not data:
                return  # shorter than it said: the next size check tells why
            # Only the new bytes are searched, so a long line read in slices stays linear.
            last_newline = data.rfind(b"\n")
            if last_newline < 0:
                self.pending += data
                continue
            complete = bytes(self.pending) + data[:last_newline + 1]
            self.pending = bytearray(data[last_newline + 1:])
            await self._append(complete)

    async def _take_unterminated_rest(self) -> None:
        """The container has exited and the file is still: what is pending is its last line."""
        if self.pending:
            rest = bytes(self.pending)
            self.pending.clear()
            await self._append(rest)

    async def _append(self, data: bytes) -> None:
        """Log ``data`` (whole lines, but the last may be unterminated) and move the cursor."""
        texts = split_lines(data)
        batch: list[tuple[types.Event, bytes | None]] = []
        position = self.offset
        for piece in _group(texts, MAX_CHUNK_BYTES):
            blob = b"".join(piece)
            position += len(blob)
            batch.append((types.LogChunk(run_id=self.run_id, ts=time.time(), stream="stdout",
                                         lines=len(piece), nbytes=len(blob),
                                         cursor_offset=position), blob))
        with trio.CancelScope(shield=True):  # log, cursor and parser move together
            await self.writer.append_many(batch)
            self.offset = position
            self.on_lines(texts)


def _group(lines: list[bytes], limit: int) -> list[list[bytes]]:
    """Consecutive lines in groups of at most ``limit`` bytes (a longer line stands alone)."""
    groups: list[list[bytes]] = [[]]
    size = 0
    for line in lines:
        if groups[-1] and size + len(line) > limit:
            groups.append([])
            size = 0
        groups[-1].append(line)
        size += len(line)
    return [g for g in groups if g]


def _file_size(path: str) -> int | None:
    """The file's size, or None when it does not exist."""
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return None


def _read_range(path: str, start: int, end: int) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(start)
        return fh.read(max(0, end - start))
