"""The event log on SQLite: one append-only table, a global ``seq``, WAL, FULL sync.

Durability policy: :meth:`EventStore.append` returns only after its transaction has
committed with ``synchronous=FULL`` in WAL mode, i.e. after the WAL has been fsynced.
Whatever a caller was told has been appended survives a crash of the process or the
machine. Group commit (many callers' events in one transaction) is the writer task's
job in the daemon; this class commits exactly the batch it is given.

The file is marked with an application id and a user_version. A file that is empty,
not SQLite, another application's database, or written by a newer schema is refused
with a clear reason and never modified. Readers use their own connections, so they
never block the writer (WAL). History is never rewritten; the only deletion is
:meth:`EventStore.delete_runs`, which removes whole finished runs on an operator's
explicit ``prune``.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO

from events import codec, errors, types

APPLICATION_ID = 0x50435356  # "PCSV"
FILE_FORMAT = 1  # the table layout; bumped only with a migration
SQLITE_HEADER = b"SQLite format 3\x00"

_COLUMNS = "seq, kind, v, run_id, ts, meta"


class EventStore:
    """An opened event log. Use :meth:`open` (writer) or :meth:`open_readonly`."""

    def __init__(self, path: str, conn: sqlite3.Connection, *, readonly: bool,
                 lock_file: IO[bytes] | None) -> None:
        self.path = path
        self.readonly = readonly
        self._conn = conn
        self._lock_file = lock_file
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()

    # --- opening ------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True) -> EventStore:
        """Open for appending, creating a new log if the path does not exist.

        Takes an exclusive lock (``<path>.lock``) so two daemons never share a log.

        Raises:
            LogLocked: another process holds the writer lock.
            NotAnEventLog, SchemaTooNew, CorruptLog, LogFileMissing: see :mod:`events.errors`.
        """
        spath = os.fspath(path)
        exists = os.path.exists(spath)
        if not exists and not create:
            raise errors.LogFileMissing(spath, "no such file")
        lock_file = _take_writer_lock(spath)
        try:
            if exists:
                _check_header(spath)
            conn = _connect(spath, uri=False)
            try:
                if exists:
                    _check_identity(conn, spath)
                else:
                    _create_schema(conn)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=FULL")
            except BaseException:
                conn.close()
                raise
        except BaseException:
            lock_file.close()
            raise
        return cls(spath, conn, readonly=False, lock_file=lock_file)

    @classmethod
    def open_readonly(cls, path: str | os.PathLike[str]) -> EventStore:
        """Open an existing log for reading only (a live daemon's, or a copy)."""
        spath = os.fspath(path)
        if not os.path.exists(spath):
            raise errors.LogFileMissing(spath, "no such file")
        _check_header(spath)
        conn = _open_ro(spath)
        try:
            _check_identity(conn, spath)
        except BaseException:
            conn.close()
            raise
        return cls(spath, conn, readonly=True, lock_file=None)

    def close(self) -> None:
        with self._readers_lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
        self._conn.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ------------------------------------------------------------------

    def append(self, batch: Sequence[tuple[types.Event, bytes | None]]) -> list[int]:
        """Append events in one durable transaction; returns their seqs in order."""
        if self.readonly:
            raise errors.EventLogError(self.path, "opened read-only")
        rows = [
            (types.kind_of(ev), types.SCHEMA_VERSION, ev.run_id, ev.ts,
             codec.encode_meta(ev), data)
            for ev, data in batch
        ]
        if not rows:
            return []
        with self._write_lock:
            try:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany(
                    "INSERT INTO events (kind, v, run_id, ts, meta, data) VALUES (?, ?, ?, ?, ?, ?)",
                    rows)
                last = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
                cur.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                if self._conn.in_transaction:
                    self._conn.rollback()
                raise _corrupt(self.path, exc, "appending") from exc
        # One writer, one transaction, AUTOINCREMENT: the batch's seqs are contiguous.
        return list(range(last - len(rows) + 1, last + 1))

    def append_one(self, event: types.Event, data: bytes | None = None) -> int:
        return self.append([(event, data)])[0]

    def delete_runs(self, run_ids: Iterable[str]) -> int:
        """Remove every event of the given runs (operator prune); returns rows removed."""
        ids = list(run_ids)
        with self._write_lock:
            with self._conn:
                removed = 0
                for run_id in ids:
                    cur = self._conn.execute("DELETE FROM events WHERE run_id = ?", (run_id,))
                    removed += cur.rowcount
        return removed

    # --- reading ------------------------------------------------------------------

    def max_seq(self) -> int:
        row = self._reader().execute("SELECT MAX(seq) FROM events").fetchone()
        return int(row[0] or 0)

    def read(
        self,
        after: int = 0,
        *,
        until: int | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        limit: int | None = None,
        with_data: bool = True,
    ) -> list[codec.StoredEvent]:
        """Events with ``after < seq <= until`` in seq order, optionally one run's or kinds'."""
        return list(self.iter(after, until=until, run_id=run_id, kinds=kinds,
                              limit=limit, with_data=with_data))

    def iter(
        self,
        after: int = 0,
        *,
        until: int | None = None,
        run_id: str | None = None,
        kinds: Sequence[str] | None = None,
        limit: int | None = None,
        with_data: bool = True,
    ) -> Iterator[codec.StoredEvent]:
        """Like :meth:`read`, but streams rows (constant memory for huge logs)."""
        where = ["seq > ?"]
        params: list[object] = [after]
        if until is not None:
            where.append("seq <= ?")
            params.append(until)
        if run_id is not None:
            where.append("run_id = ?")
            params.append(run_id)
        if kinds:
            where.append(f"kind IN ({', '.join('?' for _ in kinds)})")
            params.extend(kinds)
        data_col = "data" if with_data else "NULL"
        sql = f"SELECT {_COLUMNS}, {data_col} FROM events WHERE {' AND '.join(where)} ORDER BY seq"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        cursor = self._reader().execute(sql, params)
        last = after
        try:
            for seq, kind, v, rid, ts, meta, data in cursor:
                last = seq
                yield codec.decode_row(seq, kind, v, rid, ts, meta, data)
        except sqlite3.DatabaseError as exc:
            raise _corrupt(self.path, exc, f"reading after seq {last}") from exc

    def read_run(self, run_id: str, *, with_data: bool = True) -> list[codec.StoredEvent]:
        return self.read(0, run_id=run_id, with_data=with_data)

    def latest_cursor(self, run_id: str) -> types.LogChunk | None:
        """The last log chunk of a run (its cursor fields say where output resumes)."""
        row = self._reader().execute(
            f"SELECT {_COLUMNS}, NULL FROM events WHERE run_id = ? AND kind = 'log.chunk' "
            "ORDER BY seq DESC LIMIT 1", (run_id,)).fetchone()
        if row is None:
            return None
        event = codec.decode_row(*row).event
        assert isinstance(event, types.LogChunk)
        return event

    def check_integrity(self) -> list[str]:
        """SQLite's own full check plus seq sanity; returns problems (empty = healthy)."""
        try:
            rows = self._reader().execute("PRAGMA integrity_check").fetchall()
        except sqlite3.DatabaseError as exc:
            return [str(exc)]
        problems = [r[0] for r in rows if r[0] != "ok"]
        return problems

    def _reader(self) -> sqlite3.Connection:
        """One read connection per thread (WAL readers never block the writer)."""
        if self.readonly:
            return self._conn
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # The writer is live: never the immutable snapshot, which would miss new appends.
            conn = _connect(f"file:{Path(self.path).resolve()}?mode=ro", uri=True)
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn


# --- helpers ----------------------------------------------------------------------


def _connect(path: str, *, uri: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, uri=uri, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def _open_ro(path: str) -> sqlite3.Connection:
    uri = f"file:{Path(path).resolve()}?mode=ro"
    if not os.path.exists(path + "-wal"):
        # No WAL beside it: no writer has it open (a copy, or a stopped daemon's log).
        # immutable=1 reads it as a snapshot and creates no -wal/-shm files beside it.
        return _connect(uri + "&immutable=1", uri=True)
    return _connect(uri, uri=True)


def _check_header(path: str) -> None:
    size = os.path.getsize(path)
    if size == 0:
        raise errors.NotAnEventLog(path, "empty file, not an event log")
    with open(path, "rb") as fh:
        head = fh.read(len(SQLITE_HEADER))
    if head != SQLITE_HEADER:
        raise errors.NotAnEventLog(path, "not a SQLite database (bad header), not an event log")


def _check_identity(conn: sqlite3.Connection, path: str) -> None:
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, exc, "reading the header") from exc
    if app_id != APPLICATION_ID:
        raise errors.NotAnEventLog(
            path, f"SQLite database of another application (application_id {app_id:#x}, "
                  f"expected {APPLICATION_ID:#x}); refusing to touch it")
    if version > FILE_FORMAT:
        raise errors.SchemaTooNew(
            path, f"written by a newer paperclip-supervisor (file format {version}, this "
                  f"version reads up to {FILE_FORMAT}); upgrade to read it")
    if version < 1:
        raise errors.NotAnEventLog(path, "event log was never initialised (user_version 0)")


def _create_schema(conn: sqlite3.Connection) -> None:
    # AUTOINCREMENT: a seq is never reused, even after a prune removed the newest rows,
    # so a client's "after=<seq>" can never skip or repeat an event.
    with conn:
        conn.execute("BEGIN")
        conn.execute(
            "CREATE TABLE events ("
            " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
            " kind TEXT NOT NULL, v INTEGER NOT NULL, run_id TEXT NOT NULL,"
            " ts REAL NOT NULL, meta BLOB NOT NULL, data BLOB)")
        conn.execute("CREATE INDEX events_by_run ON events (run_id, seq)")
        conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        conn.execute(f"PRAGMA user_version={FILE_FORMAT}")


def _take_writer_lock(path: str) -> IO[bytes]:
    lock_path = path + ".lock"
    fh = open(lock_path, "a+b")  # held open: the lock lives as long as the store
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        raise errors.LogLocked(
            path, "another paperclip-supervisor is using this event log (lock held on "
                  f"{lock_path}); two daemons never share a database") from None
    return fh


def _corrupt(path: str, exc: sqlite3.DatabaseError, where: str) -> errors.EventLogError:
    return errors.CorruptLog(path, f"damaged SQLite file while {where}: {exc}")
