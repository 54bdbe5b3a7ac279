"""Event-log figures: append throughput and latency, state-only replay rate."""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable

import trio

from events import EventStore, fold, types
from supervisor.engine.writer import EventWriter

Row = tuple[str, str, str]


def _chunk(run: str, n: int) -> tuple[types.Event, bytes]:
    text = b'{"type":"assistant","message":{"content":[{"type":"text","text":"working..."}]}}\n'
    return (types.LogChunk(run_id=run, ts=time.time(), lines=1, nbytes=len(text),
                           cursor_time="2026-11-25T10:00:00.123456789Z", cursor_count=1), text)


def append_batches(tmp: str, batch: int, total: int) -> Row:
    path = os.path.join(tmp, f"append-{batch}.db")
    with EventStore.open(path) as log:
        rows = [_chunk(f"run-{i % 200}", i) for i in range(batch)]
        started = time.perf_counter()
        for _ in range(total // batch):
            log.append(rows)
        elapsed = time.perf_counter() - started
    return (f"append, batch {batch} (synchronous=FULL)", f"{total / elapsed:,.0f} events/s",
            f"{elapsed / (total // batch) * 1e3:.2f} ms/commit")


def concurrent_writers(tmp: str, writers: int, per_writer: int) -> Row:
    path = os.path.join(tmp, f"writers-{writers}.db")
    latencies: list[float] = []

    async def main() -> float:
        with EventStore.open(path) as log:
            writer = EventWriter(log, fold([]))
            async with trio.open_nursery() as nursery:
                await nursery.start(writer.run)
                started = time.perf_counter()

                async def one(w: int) -> None:
                    for n in range(per_writer):
                        t0 = time.perf_counter()
                        await writer.append(*_chunk(f"run-{w}", n))
                        latencies.append(time.perf_counter() - t0)

                async with trio.open_nursery() as inner:
                    for w in range(writers):
                        inner.start_soon(one, w)
                elapsed = time.perf_counter() - started
                nursery.cancel_scope.cancel()
            return elapsed

    elapsed = trio.run(main)
    latencies.sort()
    p50 = statistics.median(latencies) * 1e3
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1e3
    return (f"group commit, {writers} concurrent writers",
            f"{writers * per_writer / elapsed:,.0f} events/s", f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")


def replay_rate(tmp: str, total: int) -> Row:
    path = os.path.join(tmp, "replay.db")
    with EventStore.open(path) as log:
        batch = [_chunk(f"run-{i % 200}", i) for i in range(1000)]
        for _ in range(total // 1000):
            log.append(batch)
    with EventStore.open_readonly(path) as log:
        started = time.perf_counter()
        state = fold(log.iter(0, with_data=False))
        elapsed = time.perf_counter() - started
    assert state.last_seq == total
    return (f"state-only replay of {total:,} events", f"{total / elapsed:,.0f} events/s",
            f"{elapsed:.2f} s, {os.path.getsize(path) / 1e6:.0f} MB file")


def run(quick: bool = False) -> list[Row]:
    scale = 10 if quick else 1
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
        steps: list[Callable[[], Row]] = [
            lambda: append_batches(tmp, 1, 5_000 // scale),
            lambda: append_batches(tmp, 10, 50_000 // scale),
            lambda: append_batches(tmp, 100, 200_000 // scale),
            lambda: concurrent_writers(tmp, 1, 2_000 // scale),
            lambda: concurrent_writers(tmp, 10, 2_000 // scale),
            lambda: concurrent_writers(tmp, 100, 1_000 // scale),
            lambda: replay_rate(tmp, 1_000_000 // scale),
        ]
        for step in steps:
            rows.append(step())
    return rows
