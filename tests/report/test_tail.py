"""``follow``: tailing a log that another process or thread keeps appending to."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from events import EventStore, LogFileMissing, StoredEvent, types
from supervisor.report import follow, format_event

REPO = Path(__file__).resolve().parents[2]
WAIT = 30.0  # generous bound for every wait on a condition; a pass takes milliseconds
POLL = 0.01


class Follower(threading.Thread):
    """Runs ``follow`` in a thread and collects what it yields; ``wait_for`` a condition."""

    def __init__(self, path: Path, **options: object) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.seen: list[StoredEvent] = []
        self.error: BaseException | None = None
        self._changed = threading.Condition()
        self._iterator = follow(path, poll_seconds=POLL, stop=self.stop, **options)  # type: ignore[arg-type]

    def run(self) -> None:
        try:
            for stored in self._iterator:
                with self._changed:
                    self.seen.append(stored)
                    self._changed.notify_all()
        except BaseException as exc:  # handed to the test thread by wait_for
            self.error = exc
        finally:
            with self._changed:
                self._changed.notify_all()

    def wait_for(self, condition: Callable[[list[StoredEvent]], bool]) -> None:
        with self._changed:
            ok = self._changed.wait_for(
                lambda: self.error is not None or condition(self.seen), timeout=WAIT)
        if self.error is not None:
            raise self.error
        assert ok, f"condition not met in {WAIT}s; saw {len(self.seen)} events"

    def finish(self) -> None:
        self.stop.set()
        self.join(WAIT)
        assert not self.is_alive(), "follow did not end after stop was set"


@pytest.fixture
def following() -> Iterator[list[Follower]]:
    started: list[Follower] = []
    yield started
    for follower in started:
        follower.stop.set()
        follower.join(WAIT)


def _chunk(n: int, run_id: str = "run-a") -> tuple[types.Event, bytes]:
    return types.LogChunk(run_id=run_id, ts=1_800_000_000.0 + n, lines=1, nbytes=7), b"line %d\n" % n


def test_follows_a_writer_process_that_keeps_writing(
        tmp_path: Path, following: list[Follower]) -> None:
    path = tmp_path / "live.db"
    with subprocess.Popen(
            [sys.executable, "-m", "tests.report.append_child", str(path)], cwd=REPO,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        try:
            assert child.stdout is not None and child.stdin is not None
            assert child.stdout.readline().startswith("ready")
            follower = Follower(path)
            following.append(follower)
            follower.start()
            # The writer never pauses; the follower must keep up while it writes.
            follower.wait_for(lambda seen: len(seen) >= 1000)
            assert child.poll() is None, "the writer stopped before the follower caught up"
            child.stdin.write("stop\n")
            child.stdin.flush()
            last = int(child.stdout.readline().split()[1])
            assert child.wait(WAIT) == 0
            follower.wait_for(lambda seen: bool(seen) and seen[-1].seq >= last)
            follower.finish()
        finally:
            child.kill()  # a no-op once it has exited
    seqs = [stored.seq for stored in follower.seen]
    assert seqs == list(range(1, last + 1))  # every event exactly once, in order
    assert [s.text() for s in follower.seen[:2]] == ["line 1\n", "line 2\n"]


def test_no_read_transaction_is_held_while_the_caller_has_an_event(tmp_path: Path) -> None:
    """A checkpoint that must wait for every reader succeeds while a follower is suspended."""
    path = tmp_path / "live.db"
    with EventStore.open(path) as log:
        log.append([_chunk(n) for n in range(1, 201)])
        events = follow(path, poll_seconds=POLL, batch=50)
        first = next(events)  # suspended mid-batch: the caller holds an event
        assert first.seq == 1
        log.append([_chunk(n) for n in range(201, 1201)])
        probe = sqlite3.connect(path)
        try:
            probe.execute("PRAGMA busy_timeout=0")  # a blocked checkpoint reports busy at once
            busy, _, _ = probe.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            probe.close()
        assert busy == 0, "the follower pinned the WAL"
        assert os.path.getsize(f"{path}-wal") == 0
        rest = [next(events).seq for _ in range(1199)]
        events.close()
    assert rest == list(range(2, 1201))


def test_a_log_that_no_writer_has_open_is_followed_once_one_starts(
        tmp_path: Path, following: list[Follower]) -> None:
    path = tmp_path / "idle.db"
    with EventStore.open(path) as log:
        log.append([_chunk(1)])
    assert not os.path.exists(f"{path}-wal")  # a stopped daemon's log: opened as a snapshot
    follower = Follower(path)
    following.append(follower)
    follower.start()
    follower.wait_for(lambda seen: len(seen) == 1)
    with EventStore.open(path) as log:  # the daemon starts again
        log.append([_chunk(2)])
        follower.wait_for(lambda seen: len(seen) == 2)
        log.append([_chunk(3)])
        follower.wait_for(lambda seen: len(seen) == 3)
    follower.finish()
    assert [s.seq for s in follower.seen] == [1, 2, 3]


def test_filters_by_run_and_kind_and_starts_after_a_seq(
        tmp_path: Path, following: list[Follower]) -> None:
    path = tmp_path / "mixed.db"
    with EventStore.open(path) as log:
        log.append([_chunk(1, "run-a"), _chunk(2, "run-b"),
                    (types.KeepaliveTicked(run_id="run-a", ts=1.0), None), _chunk(3, "run-a")])
        follower = Follower(path, run_id="run-a", kinds=("log.chunk",), after=1)
        following.append(follower)
        follower.start()
        follower.wait_for(lambda seen: len(seen) == 1)
        log.append([_chunk(5, "run-b"), _chunk(6, "run-a")])
        follower.wait_for(lambda seen: len(seen) == 2)
    follower.finish()
    assert [(s.seq, s.text()) for s in follower.seen] == [(4, "line 3\n"), (6, "line 6\n")]


def test_after_none_starts_at_the_current_end(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    with EventStore.open(path) as log:
        log.append([_chunk(1), _chunk(2)])
        events = follow(path, after=None, poll_seconds=POLL)
        log.append([_chunk(3)])
        assert next(events).seq == 3
        events.close()


def test_a_missing_log_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LogFileMissing, match="no such file"):
        follow(tmp_path / "nope.db")  # raised by the call, not on first iteration
    with pytest.raises(ValueError, match="poll_seconds must be > 0"):
        follow(tmp_path / "nope.db", poll_seconds=0)


def test_format_event_shows_fields_and_humanised_output() -> None:
    line = (b'{"type":"assistant","message":{"content":[{"type":"tool_use","name":"Bash",'
            b'"input":{"command":"pytest -q"}}]}}\n')
    chunk = StoredEvent(seq=7, v=1, event=types.LogChunk(run_id="run-a", ts=1_800_000_000.25,
                                                         lines=2, nbytes=99),
                        data=line + b"plain text\n")
    assert format_event(chunk).splitlines() == [
        "2027-01-15 08:00:00.250Z  #7       run-a            log.chunk          "
        "stream=stdout lines=2 nbytes=99 cursorCount=0 cursorOffset=-1",
        "    │ tool_call: Bash: pytest -q",
        "    │ plain text",
    ]
    assert "│ {\"type\":\"assistant\"" in format_event(chunk, human=False)
    finished = StoredEvent(seq=8, v=1, event=types.RunFinished(run_id="run-a", ts=1.0,
                                                               phase="failed", error_code="x"))
    assert format_event(finished).rstrip().endswith("phase=failed errorCode=x")
