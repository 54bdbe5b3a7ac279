"""Reads from the event log for the API, in worker threads, on read-only connections of its own.

Why this module exists: streams and other reads must never slow the writer, and a crowd of
clients must not open connections without bound. A small pool of read-only
:class:`events.store.EventStore` handles is shared by all API reads: each read checks one out,
runs in a worker thread, and returns it. WAL mode lets these readers see every committed event
without blocking the writer. Handles are opened on first use, after the daemon has started
(so the log is already in WAL mode with its ``-wal`` file beside it).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import trio

from events import codec, store

DEFAULT_CONNECTIONS = 4


class LogReader:
    """A bounded pool of read-only handles on one event log.

    Args:
        path: the event log.
        connections: most reads running at once (and handles kept open).
    """

    def __init__(self, path: str, *, connections: int = DEFAULT_CONNECTIONS) -> None:
        self.path = path
        self.limiter = trio.CapacityLimiter(connections)
        self._idle: list[store.EventStore] = []
        self._closed = False

    async def read(self, after: int = 0, *, until: int | None = None,
                   run_id: str | None = None, kinds: Sequence[str] | None = None,
                   limit: int | None = None, with_data: bool = True) -> list[codec.StoredEvent]:
        """Events with ``after < seq <= until`` in seq order (see :meth:`EventStore.read`)."""
        call = functools.partial(_read, after=after, until=until, run_id=run_id, kinds=kinds,
                                 limit=limit, with_data=with_data)
        async with self.limiter:
            idle = self._idle.pop() if self._idle else None
            handle, events = await trio.to_thread.run_sync(_with_handle, self.path, idle, call)
            if self._closed:
                handle.close()
            else:
                self._idle.append(handle)
        return events

    def close(self) -> None:
        self._closed = True
        while self._idle:
            self._idle.pop().close()


def _with_handle(path: str, handle: store.EventStore | None,
                 call: functools.partial[list[codec.StoredEvent]]
                 ) -> tuple[store.EventStore, list[codec.StoredEvent]]:
    if handle is None:
        handle = store.EventStore.open_readonly(path)
    return handle, call(handle)


def _read(log: store.EventStore, *, after: int, until: int | None, run_id: str | None,
          kinds: Sequence[str] | None, limit: int | None,
          with_data: bool) -> list[codec.StoredEvent]:
    return log.read(after, until=until, run_id=run_id, kinds=kinds, limit=limit,
                    with_data=with_data)
