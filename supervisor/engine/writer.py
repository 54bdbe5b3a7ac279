"""The single writer task: group commit into the event log, then tell everyone.

Every fact goes through :meth:`EventWriter.append`, which returns only once the event
is durable (the store commits with ``synchronous=FULL``). While one transaction is
being committed in a worker thread, new appends queue up; the next transaction takes
all of them at once (group commit), so throughput grows with concurrency while a lone
append waits no longer than one commit. After each commit the in-memory fold is
advanced and waiting readers are woken — in that order, so nobody is told of an
event before it is on disk and folded (design invariant 1).

Resource handling: runs as a service started with ``nursery.start(writer.run)``;
appends made after the service stopped raise :class:`trio.ClosedResourceError`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import trio

from events import codec, state, store, types

DEFAULT_MAX_BATCH = 1000


class _Pending:
    __slots__ = ("done", "error", "items", "seqs")

    def __init__(self, items: Sequence[tuple[types.Event, bytes | None]]) -> None:
        self.items = items
        self.done = trio.Event()
        self.seqs: list[int] = []
        self.error: BaseException | None = None


class EventWriter:
    """Group-committing writer over an :class:`events.store.EventStore`.

    Args:
        log: the opened (writable) store.
        folded: the state folded from the log so far; kept current after each commit.
        max_batch: most events in one transaction.
        linger: seconds to wait for more appends before committing a batch that is not
            full (0 = commit as soon as the previous commit finished).
    """

    def __init__(
        self,
        log: store.EventStore,
        folded: state.LogState,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        linger: float = 0.0,
    ) -> None:
        self.log = log
        self.state = folded
        self._max_batch = max_batch
        self._linger = linger
        self._send, self._receive = trio.open_memory_channel[_Pending](math.inf)
        self._limiter = trio.CapacityLimiter(1)
        self._appended = trio.Event()
        self.commits = 0
        self.events_appended = 0
        self.append_seconds_total = 0.0

    async def append(self, event: types.Event, data: bytes | None = None) -> int:
        """Append one event; returns its seq once it is durable and folded."""
        return (await self.append_many([(event, data)]))[0]

    async def append_many(self, items: Sequence[tuple[types.Event, bytes | None]]) -> list[int]:
        """Append events atomically and in order; returns their seqs (none for no events)."""
        if not items:
            return []
        pending = _Pending(items)
        self._send.send_nowait(pending)
        await pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.seqs

    async def wait_appended(self, after: int) -> None:
        """Return once the log holds an event with seq > ``after``."""
        while self.state.last_seq <= after:
            await self._appended.wait()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        try:
            async for first in self._receive:
                batch = [first]
                size = len(first.items)
                if self._linger > 0:
                    with trio.move_on_after(self._linger):
                        while size < self._max_batch:
                            nxt = await self._receive.receive()
                            batch.append(nxt)
                            size += len(nxt.items)
                while size < self._max_batch:
                    try:
                        nxt = self._receive.receive_nowait()
                    except trio.WouldBlock:
                        break
                    batch.append(nxt)
                    size += len(nxt.items)
                await self._commit(batch)
        finally:
            self._send.close()
            # Anything still queued when the writer stops is refused, not silently dropped.
            while True:
                try:
                    left = self._receive.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
                left.error = trio.ClosedResourceError("event writer stopped")
                left.done.set()

    async def _commit(self, batch: list[_Pending]) -> None:
        rows = [item for pending in batch for item in pending.items]
        started = time.perf_counter()
        try:
            seqs = await trio.to_thread.run_sync(self.log.append, rows, limiter=self._limiter)
        except Exception as exc:  # the store's error goes to every waiting appender
            for pending in batch:
                pending.error = exc
                pending.done.set()
            return
        self.append_seconds_total += time.perf_counter() - started
        self.commits += 1
        self.events_appended += len(rows)
        position = 0
        for pending in batch:
            pending.seqs = seqs[position : position + len(pending.items)]
            for seq, (event, _data) in zip(pending.seqs, pending.items, strict=True):
                self.state.apply(
                    codec.StoredEvent(seq=seq, v=types.SCHEMA_VERSION, event=event, data=None)
                )
            position += len(pending.items)
        for pending in batch:
            pending.done.set()
        woken, self._appended = self._appended, trio.Event()
        woken.set()
