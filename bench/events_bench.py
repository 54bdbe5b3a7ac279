"""Event-log figures: append throughput and latency, state-only replay, replay as the log grows.

Each figure comes with its baseline from the same invocation: group commit against one
transaction per event, replay against SQLite merely scanning the same rows.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from dataclasses import dataclass

import trio

from bench import report, synthetic
from bench.report import Row
from events import EventStore, fold, types
from supervisor.engine.writer import EventWriter

APPEND_TARGET = 50_000  # events/s with group commit
REPLAY_TARGET = 500_000  # events/s, state only
_TEXT = b'{"type":"assistant","message":{"content":[{"type":"text","text":"working..."}]}}\n'


@dataclass(frozen=True)
class Sizes:
    """How much each figure writes (``--quick`` divides them)."""

    appends: int = 200_000
    writer_events: int = 100_000
    replay_events: int = 1_000_000
    realistic: synthetic.Shape = synthetic.Shape(runs=200, lines=5_000)
    growth_bytes: int = 1 << 30


def _chunk(run: str) -> tuple[types.Event, bytes]:
    return (types.LogChunk(run_id=run, ts=time.time(), lines=1, nbytes=len(_TEXT),
                           cursor_time="2026-11-25T10:00:00.123456789Z", cursor_count=1), _TEXT)


def _append_rate(path: str, batch: int, total: int) -> tuple[float, float]:
    """Synchronous appends of ``batch`` events per transaction: (events/s, ms per commit)."""
    with EventStore.open(path) as log:
        rows = [_chunk(f"run-{i % 200}") for i in range(batch)]
        commits = max(1, total // batch)
        started = time.perf_counter()
        for _ in range(commits):
            log.append(rows)
        elapsed = time.perf_counter() - started
    return commits * batch / elapsed, elapsed / commits * 1e3


def _writers(path: str, writers: int, total: int) -> tuple[float, list[float], float]:
    """``writers`` tasks appending one event at a time through the group-commit writer.

    Returns (events/s, each append's latency in ms, events per commit).
    """
    per_writer = max(1, total // writers)
    latencies: list[float] = []

    async def main() -> tuple[float, float]:
        with EventStore.open(path) as log:
            writer = EventWriter(log, fold([]))
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)

                async def one(w: int) -> None:
                    for _ in range(per_writer):
                        began = time.perf_counter()
                        await writer.append(*_chunk(f"run-{w}"))
                        latencies.append((time.perf_counter() - began) * 1e3)

                started = time.perf_counter()
                async with trio.open_nursery() as inner:
                    for w in range(writers):
                        inner.start_soon(one, w)
                elapsed = time.perf_counter() - started
                nursery.cancel_scope.cancel(reason="benchmark done")
            return elapsed, writer.events_appended / max(1, writer.commits)

    elapsed, per_commit = trio.run(main)
    return writers * per_writer / elapsed, latencies, per_commit


def appends(tmp: str, sizes: Sizes) -> list[Row]:
    """Synchronous batches (the baseline) and group commit at 1/10/100 writers."""
    rows: list[Row] = []
    single, single_ms = _append_rate(os.path.join(tmp, "a1.db"), 1, max(500, sizes.appends // 40))
    rows.append(Row("events", "append, 1 event per transaction (baseline)",
                    f"{single:,.0f} events/s", detail=f"{single_ms:.2f} ms per commit "
                    "(synchronous=FULL, WAL)"))
    hundred, hundred_ms = _append_rate(os.path.join(tmp, "a100.db"), 100, sizes.appends)
    rows.append(Row("events", "append, 100 events per transaction", f"{hundred:,.0f} events/s",
                    detail=f"{hundred_ms:.2f} ms per commit; {hundred / single:.1f}x baseline"))
    for writers in (1, 10, 100):
        total = sizes.writer_events // (10 if writers == 1 else 1)
        rate, latencies, per_commit = _writers(os.path.join(tmp, f"w{writers}.db"), writers, total)
        target, met = "", ""
        if writers == 100:
            target, met = f">= {APPEND_TARGET:,} events/s", report.verdict(rate >= APPEND_TARGET)
        rows.append(Row(
            "events", f"group commit, {writers} concurrent writer{'s' if writers > 1 else ''}",
            f"{rate:,.0f} events/s", target, met,
            f"append p50 {report.percentile(latencies, 50):.2f} ms, "
            f"p99 {report.percentile(latencies, 99):.2f} ms; {per_commit:.1f} events/commit; "
            f"{rate / single:.1f}x baseline"))
    return rows


def _replay(path: str, *, tries: int = 1) -> tuple[int, float, float]:
    """Fold the whole log without log text, the fastest of ``tries`` (other load on the
    machine only ever slows a try down); returns (events, wall seconds, CPU seconds)."""
    best = (0, float("inf"), float("inf"))
    for _ in range(tries):
        with EventStore.open_readonly(path) as log:
            wall, cpu = time.perf_counter(), time.process_time()
            state = fold(log.iter(0, with_data=False))
            took = (state.last_seq, time.perf_counter() - wall, time.process_time() - cpu)
        best = min(best, took, key=lambda t: t[1])
    return best


def _scan(path: str) -> float:
    """Seconds SQLite alone takes to hand over the same columns the replay reads."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        started = time.perf_counter()
        for _row in conn.execute("SELECT seq, kind, v, run_id, ts, meta, NULL FROM events "
                                 "WHERE seq > 0 ORDER BY seq"):
            pass
        return time.perf_counter() - started
    finally:
        conn.close()


def replay_uniform(tmp: str, total: int) -> Row:
    """State-only replay of ``total`` small log.chunk events, against a bare SQLite scan."""
    path = os.path.join(tmp, "replay.db")
    with EventStore.open(path) as log:
        synthetic.write(log, (_chunk(f"run-{i % 200}") for i in range(total)))
    events, seconds, cpu = _replay(path, tries=3)
    scan = min(_scan(path) for _ in range(3))
    rate = events / seconds
    return Row("events", f"state-only replay, {events:,} events", f"{rate:,.0f} events/s",
               f">= {REPLAY_TARGET:,} events/s", report.verdict(rate >= REPLAY_TARGET),
               f"best of 3: {seconds:.2f} s ({events / cpu:,.0f} events per CPU-second), "
               f"{os.path.getsize(path) / 1e6:.0f} MB; bare SQLite scan {events / scan:,.0f} "
               f"rows/s (replay runs at {scan / seconds:.0%} of it)")


def replay_realistic(tmp: str, shape: synthetic.Shape, growth_bytes: int) -> list[Row]:
    """Replay of a realistic log, then replay time as the log grows to ``growth_bytes``."""
    path = os.path.join(tmp, "realistic.db")
    pool = synthetic.transcript_lines()
    marks = [growth_bytes // 8, growth_bytes // 4, growth_bytes // 2, growth_bytes]
    growth: list[tuple[int, int, float]] = []  # (bytes, events, seconds)
    growing = [False]  # past the realistic log: stop writing at the last mark

    def checkpoint() -> bool:
        size = os.path.getsize(path)
        if marks and size >= marks[0]:
            while marks and size >= marks[0]:
                marks.pop(0)
            events, seconds, _cpu = _replay(path)
            growth.append((size, events, seconds))
        return growing[0] and not marks

    rows: list[Row] = []
    with EventStore.open(path) as log:
        synthetic.write(log, synthetic.events(shape, pool), after_batch=checkpoint)
        events, seconds, cpu = _replay(path, tries=2)
        rate = events / seconds
        size = os.path.getsize(path)
        rows.append(Row(
            "events", f"state-only replay, realistic log: {shape.runs} runs x {shape.lines:,} "
            "lines", f"{rate:,.0f} events/s", f">= {REPLAY_TARGET:,} events/s",
            report.verdict(rate >= REPLAY_TARGET),
            f"{events:,} events (a log.chunk per line, keepalives every 15 s), "
            f"{size / 1e6:,.0f} MB; best of 2: {seconds:.2f} s "
            f"({events / cpu:,.0f} events per CPU-second)"))
        more = 0
        growing[0] = True
        while marks:  # keep adding runs of the same shape until the last mark
            more += 1
            synthetic.write(log, synthetic.events(shape, pool, first_run=more * shape.runs),
                            after_batch=checkpoint)
    for size, events, seconds in growth:
        rows.append(Row("events", f"replay time, log grown to {size / 2**20:,.0f} MiB",
                        f"{seconds:.2f} s", detail=f"{events:,} events, "
                        f"{events / seconds:,.0f} events/s (page cache warm)"))
    return rows


def run(sizes: Sizes) -> list[Row]:
    """Every event-log figure, in temporary files removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        rows = appends(tmp, sizes)
        rows.append(replay_uniform(tmp, sizes.replay_events))
        rows += replay_realistic(tmp, sizes.realistic, sizes.growth_bytes)
    return rows
