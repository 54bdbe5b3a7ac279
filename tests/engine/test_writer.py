"""The group-committing writer: durable before acknowledged, folded before announced."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio
import trio.testing

from events import EventStore, fold, types
from supervisor.engine.writer import EventWriter


def _tick(run: str, n: int) -> types.Event:
    return types.KeepaliveTicked(run_id=run, ts=float(n), silent_for=float(n))


async def test_concurrent_appends_share_commits_and_all_land(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        writer = EventWriter(log, fold([]))
        seqs: list[int] = []
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)

            async def one(n: int) -> None:
                seqs.append(await writer.append(_tick(f"r{n % 7}", n)))

            async with trio.open_nursery() as appenders:
                for n in range(300):
                    appenders.start_soon(one, n)
            nursery.cancel_scope.cancel()
        assert sorted(seqs) == list(range(1, 301))
        assert writer.events_appended == 300
        assert writer.commits < 300, "concurrent appends were not grouped"
        # The in-memory fold is exactly what replaying the file gives.
        assert writer.state == fold(log.iter(0, with_data=False))


async def test_append_many_is_atomic_and_ordered(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        writer = EventWriter(log, fold([]))
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            seqs = await writer.append_many([(_tick("a", n), b"x") for n in range(5)])
            assert seqs == [1, 2, 3, 4, 5]
            assert [e.seq for e in log.read(0)] == seqs
            nursery.cancel_scope.cancel()


async def test_wait_appended_wakes_readers_only_after_commit(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        writer = EventWriter(log, fold([]))
        seen: list[int] = []
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)

            async def reader() -> None:
                await writer.wait_appended(0)
                seen.append(log.max_seq())  # on disk by the time we are woken

            nursery.start_soon(reader)
            await trio.testing.wait_all_tasks_blocked()
            assert seen == []
            await writer.append(_tick("a", 1))
            await trio.testing.wait_all_tasks_blocked()
            assert seen == [1]
            nursery.cancel_scope.cancel()


async def test_a_store_failure_reaches_every_appender_in_the_batch(db_path: Path) -> None:
    log = EventStore.open(db_path)
    writer = EventWriter(log, fold([]))
    async with trio.open_nursery() as nursery:
        await nursery.start(writer.run)
        log.readonly = True  # the store now refuses writes
        with pytest.raises(Exception, match="read-only"):
            await writer.append(_tick("a", 1))
        nursery.cancel_scope.cancel()
    log.readonly = False
    log.close()


async def test_appends_after_the_writer_stopped_are_refused(db_path: Path) -> None:
    with EventStore.open(db_path) as log:
        writer = EventWriter(log, fold([]))
        async with trio.open_nursery() as nursery:
            await nursery.start(writer.run)
            nursery.cancel_scope.cancel()
        with pytest.raises(trio.ClosedResourceError):
            await writer.append(_tick("a", 1))
