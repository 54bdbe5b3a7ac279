"""SIGKILL a process mid-append, again and again: acknowledged events survive, seq stays whole."""

from __future__ import annotations

import random
import signal
import sys
from pathlib import Path

import trio

from events import EventStore, fold

KILLS = 24


async def _run_until_acked(db: Path, seed: int, acks_wanted: int) -> int:
    """Start the child, wait for ``acks_wanted`` acknowledgements, SIGKILL it mid-stream."""
    last_acked = 0
    proc = await trio.lowlevel.open_process(
        [sys.executable, "-m", "tests.events.crash_child", str(db), str(seed)],
        stdout=-1, cwd=str(Path(__file__).parents[2]))
    try:
        assert proc.stdout is not None
        buffered = b""
        acks = 0
        with trio.fail_after(60):
            while acks < acks_wanted:
                chunk = await proc.stdout.receive_some(65536)
                assert chunk, "child exited before it was killed"
                buffered += chunk
                *lines, buffered = buffered.split(b"\n")
                for line in lines:
                    last_acked = int(line)
                    acks += 1
        proc.send_signal(signal.SIGKILL)  # it is inside another append right now
    finally:
        proc.kill()
        await proc.wait()
    return last_acked


async def test_sigkill_never_loses_an_acknowledged_append(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(20261125)
    print(f"crash test seed 20261125, {KILLS} kills")
    acked = 0
    for round_no in range(KILLS):
        acked = max(acked, await _run_until_acked(db, rng.randrange(1 << 30), rng.randint(1, 60)))
        with EventStore.open(db) as log:  # opens cleanly, as a restarted daemon would
            events = log.read(0)
            seqs = [e.seq for e in events]
            assert seqs == list(range(1, len(seqs) + 1)), f"hole or duplicate in round {round_no}"
            assert seqs[-1] >= acked, f"acknowledged seq {acked} lost in round {round_no}"
            for stored in events:  # every event is whole: meta and data agree
                assert stored.text() == f"line {stored.event.cursor_offset}\n"
                assert stored.event.cursor_offset == stored.seq
            assert log.check_integrity() == []
            assert sum(r.output_lines for r in fold(events).runs.values()) == len(events)
