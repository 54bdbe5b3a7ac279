"""The SQLite event log: reads, identity checks, bad files, locking, forward compatibility."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from events import EventStore, codec, errors, fold, store, types


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _chunk(run: str, n: int) -> tuple[types.Event, bytes]:
    text = f"line {n}\n".encode()
    return types.LogChunk(run_id=run, ts=float(n), lines=1, nbytes=len(text),
                          cursor_time=f"t{n}", cursor_count=1), text


def test_append_returns_consecutive_seqs_and_reads_filter(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        seqs = log.append([_chunk("a", 1), _chunk("b", 2), _chunk("a", 3)])
        assert seqs == [1, 2, 3]
        assert log.append_one(types.KeepaliveTicked(run_id="a", ts=4.0)) == 4
        assert [e.seq for e in log.read_run("a")] == [1, 3, 4]
        assert [e.seq for e in log.read(1)] == [2, 3, 4]
        assert [e.seq for e in log.read(0, kinds=["keepalive.ticked"])] == [4]
        assert [e.text() for e in log.read(0, run_id="a", kinds=["log.chunk"])] == [
            "line 1\n", "line 3\n"]
        assert all(e.data is None for e in log.read(0, with_data=False))
        cursor = log.latest_cursor("a")
        assert cursor is not None and cursor.cursor_time == "t3"
        assert log.latest_cursor("zzz") is None
        assert log.max_seq() == 4


def test_seq_is_never_reused_after_a_prune(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        log.append([_chunk("old", 1), _chunk("old", 2)])
        assert log.delete_runs(["old"]) == 2
        assert log.append_one(types.RunsPruned(run_ids=["old"])) == 3


def test_a_second_writer_is_refused(db_path: Path) -> None:
    with EventStore.open(db_path):
        with pytest.raises(errors.LogLocked, match="another paperclip-supervisor"):
            EventStore.open(db_path)
    EventStore.open(db_path).close()  # the lock goes with the first store


def test_readers_see_committed_events_while_the_writer_holds_the_log(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        log.append([_chunk("a", 1)])
        with EventStore.open_readonly(db_path) as reader:
            assert reader.max_seq() == 1
            log.append([_chunk("a", 2)])
            assert [e.seq for e in reader.read(0)] == [1, 2]


def test_a_copy_without_its_wal_side_files_replays(db_path: Path, tmp_path: Path) -> None:
    with EventStore.open(db_path) as log:
        log.append([_chunk("a", n) for n in range(5)])
    copy = tmp_path / "copy" / "events.db"
    copy.parent.mkdir()
    shutil.copy(db_path, copy)
    before = _sha(copy)
    with EventStore.open_readonly(copy) as log:
        assert fold(log.iter(0)).runs["a"].output_lines == 5
    assert _sha(copy) == before
    assert sorted(os.listdir(copy.parent)) == ["events.db"]


def test_unknown_kinds_from_a_newer_supervisor_are_kept_and_shown(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        log.append([_chunk("a", 1)])
    conn = sqlite3.connect(db_path)
    with conn:
        conn.execute("INSERT INTO events (kind, v, run_id, ts, meta, data) VALUES "
                     "('run.teleported', 1, 'a', 5.0, '{\"kind\":\"run.teleported\",\"to\":\"mars\"}', NULL)")
        conn.execute("INSERT INTO events (kind, v, run_id, ts, meta, data) VALUES "
                     "('log.chunk', 99, 'a', 6.0, '{\"kind\":\"log.chunk\",\"shape\":\"new\"}', NULL)")
    conn.close()
    with EventStore.open_readonly(db_path) as log:
        stored = log.read(0)
        assert [s.kind for s in stored] == ["log.chunk", "run.teleported", "log.chunk"]
        assert isinstance(stored[1].event, types.UnknownEvent)
        assert isinstance(stored[2].event, types.UnknownEvent)
        assert codec.event_to_json(stored[1])["to"] == "mars"
        assert fold(stored).runs["a"].output_lines == 1


def test_files_that_are_not_our_log_are_refused_untouched(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    noise = tmp_path / "noise.db"
    noise.write_bytes(os.urandom(8192))
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    newer = tmp_path / "newer.db"
    EventStore.open(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute(f"PRAGMA user_version={store.FILE_FORMAT + 1}")
    conn.close()

    cases = [
        (empty, errors.NotAnEventLog, "empty file"),
        (noise, errors.NotAnEventLog, "not a SQLite database"),
        (foreign, errors.NotAnEventLog, "another application"),
        (newer, errors.SchemaTooNew, "newer paperclip-supervisor"),
    ]
    for path, error, reason in cases:
        before = _sha(path)
        for opener in (EventStore.open, EventStore.open_readonly):
            with pytest.raises(error, match=reason) as caught:
                opener(path)
            assert str(path) in str(caught.value)
        assert _sha(path) == before, f"{path.name} was modified"
    with pytest.raises(errors.LogFileMissing):
        EventStore.open_readonly(tmp_path / "absent.db")


def test_a_damaged_page_is_reported_with_where(tmp_path: Path) -> None:
    path = tmp_path / "torn.db"
    with EventStore.open(path) as log:
        for n in range(40):
            log.append([_chunk("a", n * 100 + i) for i in range(100)])
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
    raw = bytearray(path.read_bytes())
    page = 4096
    for offset in range(page * 3, len(raw) - page, page * 2):  # scribble over many pages
        raw[offset + 100: offset + 4000] = os.urandom(3900)
    path.write_bytes(bytes(raw))
    with pytest.raises(errors.CorruptLog, match="damaged SQLite file") as caught:
        with EventStore.open_readonly(path) as log:
            list(log.iter(0))
    assert str(path) in str(caught.value)


def test_a_writers_readers_see_appends_made_after_they_opened(db_path: Path) -> None:
    import threading

    with EventStore.open(db_path) as log:
        seen: list[int] = []
        first_read = threading.Event()
        appended = threading.Event()

        def reader() -> None:  # a worker thread reading before and after the first append
            seen.append(log.max_seq())
            first_read.set()
            appended.wait(10)
            seen.append(log.max_seq())

        thread = threading.Thread(target=reader)
        thread.start()
        first_read.wait(10)
        log.append([_chunk("a", 1)])
        appended.set()
        thread.join(10)
        assert seen == [0, 1]
