"""``replay DB --follow``: tail a live daemon's event log, read-only, as it grows.

Why short reads and polling: in WAL mode SQLite readers run beside the writer, but a reader
that keeps a read transaction open pins the WAL, so the writer's checkpoints cannot finish and
the ``-wal`` file grows without bound. Each poll therefore reads at most one batch as a
complete list (the read transaction has ended before anything is handed out), then waits.
``seq`` is never reused, so resuming ``after`` the last seq seen neither skips nor repeats an
event, even across prunes.

A log with no ``-wal`` file beside it is opened by :meth:`events.EventStore.open_readonly` as
an immutable snapshot (no writer has it open, and nothing is created beside a copy). If a
daemon opens it later, the ``-wal`` file appears and the follower reopens the log, so it sees
what the daemon appends.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator, Sequence

from events import codec, replay, store, types
from supervisor import pretty, streamjson
from supervisor.report import units

DEFAULT_POLL_SECONDS = 0.25
DEFAULT_BATCH = 1000
# Opening races a writer that is starting or stopping at that instant; retry this often.
_OPEN_ATTEMPTS = 5
_COUNTED_KINDS = ("run.finished", "job.terminal")


def follow(
    log_path: str | os.PathLike[str],
    *,
    after: int | None = 0,
    run_id: str | None = None,
    kinds: Sequence[str] | None = None,
    poll_seconds: float = DEFAULT_POLL_SECONDS,
    batch: int = DEFAULT_BATCH,
    stop: threading.Event | None = None,
) -> Generator[codec.StoredEvent, None, None]:
    """Yield every event after seq ``after``, then each new one as it is appended.

    Never writes to the log and never holds a read transaction while the caller has an
    event, so the daemon's writer is never held up by a follower.

    Args:
        log_path: the daemon's event log.
        after: start after this seq (0: from the beginning; None: only what is appended
            from now on).
        run_id: only this run's events.
        kinds: only these kinds.
        poll_seconds: how long to wait before looking again once caught up.
        batch: most events read per query.
        stop: set it (from any thread) to end the iteration; without one, it ends only
            when the caller closes the generator (``close()``, or leaving a ``for`` loop).

    Raises:
        EventLogError: the path is missing or not an event log (raised by this call, before
            anything is iterated).
    """
    if poll_seconds <= 0 or batch < 1:
        raise ValueError(f"poll_seconds must be > 0 and batch >= 1, got {poll_seconds}, {batch}")
    path = os.fspath(log_path)
    with store.EventStore.open_readonly(path) as probe:  # bad paths fail here, not later
        start = probe.max_seq() if after is None else after
    return _tail(path, start, run_id=run_id, kinds=kinds, poll_seconds=poll_seconds,
                 batch=batch, stop=stop if stop is not None else threading.Event())


def _tail(path: str, after: int, *, run_id: str | None, kinds: Sequence[str] | None,
          poll_seconds: float, batch: int,
          stop: threading.Event) -> Generator[codec.StoredEvent, None, None]:
    reader = _Reader(path)
    try:
        while not stop.is_set():
            events = reader.log.read(after, run_id=run_id, kinds=kinds, limit=batch)
            if events:
                after = events[-1].seq
                yield from events
            if len(events) < batch:
                if stop.wait(poll_seconds):
                    return
                reader.refresh()
    finally:
        reader.close()


class _Reader:
    """A read-only handle that is reopened when a writer appears or goes away."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.log, self.wal = self._open()

    def _wal_exists(self) -> bool:
        return os.path.exists(self.path + "-wal")

    def _open(self) -> tuple[store.EventStore, bool]:
        for _ in range(_OPEN_ATTEMPTS):
            wal = self._wal_exists()
            log = store.EventStore.open_readonly(self.path)
            if self._wal_exists() == wal:
                return log, wal
            log.close()  # a writer came or went while opening: the handle may be a snapshot
        return store.EventStore.open_readonly(self.path), self._wal_exists()

    def refresh(self) -> None:
        if self._wal_exists() != self.wal:
            self.log.close()
            self.log, self.wal = self._open()

    def close(self) -> None:
        self.log.close()


def format_event(stored: codec.StoredEvent, *, human: bool = True, color: bool = False) -> str:
    """One event for a terminal: time, seq, run, kind and fields; an output chunk's lines
    follow, indented, through the human formatter (or raw with ``human=False``)."""
    summary = replay.describe(stored)
    if stored.kind in _COUNTED_KINDS:
        # describe() appends the run's output line count, which a tail that starts in the
        # middle of the log cannot know: leave it out rather than print a wrong 0.
        summary = summary.removesuffix("outputLines=0").rstrip()
    head = (f"{units.clock(stored.ts)}  #{stored.seq:<7} {stored.run_id or '-':<16} "
            f"{stored.kind:<18} {summary}").rstrip()
    if not isinstance(stored.event, types.LogChunk):
        return head + "\n"
    lines = [head]
    for line in streamjson.split_lines(stored.data or b""):
        text = (pretty.format_line(line, color=color) if human
                else streamjson.line_text(line))
        if text is not None:
            lines.extend(f"    │ {part}" for part in text.split("\n"))
    return "\n".join(lines) + "\n"
