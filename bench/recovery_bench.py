"""Recovery: SIGKILL the daemon with many live runs; how long until every run is followed again.

The runs print five lines a second each. The daemon is SIGKILLed (as a crash or an OOM kill
would end it) and started again at once. A run counts as followed again at the first
``log.chunk`` the new daemon appends for it (its ``ts``, taken when the chunk was read): the
output printed while the daemon was down arrives first, then live lines. The figure is the
time from the kill to the last run being followed again, which includes the new process's
start, the replay of the log, the recovery pass and reattaching every log stream.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import trio

from bench import report, rig
from bench.report import Row
from events import EventStore

RUNS = 50
PACE_MS = 200
TARGET_SECONDS = 5.0


@dataclass(frozen=True)
class Sizes:
    """How many live runs are recovered (scaled down by ``--quick``)."""

    runs: int = RUNS


def _followed_again(db_path: str,
                    run_ids: list[str]) -> tuple[float, dict[str, float], dict[str, int]]:
    """After the newest ``supervisor.started``: its recovery seconds, each run's first chunk
    time, and the count of gaps per run."""
    first: dict[str, float] = {}
    gaps: dict[str, int] = {}
    with EventStore.open_readonly(db_path) as log:
        starts = log.read(0, kinds=("supervisor.started",), with_data=False)
        restart = starts[-1]
        recovery = float(getattr(restart.event, "recovery_seconds", 0.0))
        for stored in log.iter(restart.seq, kinds=("log.chunk", "log.gap"), with_data=False):
            if stored.kind == "log.gap":
                gaps[stored.run_id] = gaps.get(stored.run_id, 0) + 1
            elif stored.run_id not in first:
                first[stored.run_id] = stored.ts
    return recovery, {rid: first[rid] for rid in run_ids if rid in first}, gaps


async def run(sizes: Sizes, options: rig.RigOptions) -> list[Row]:
    """Kill the daemon under ``sizes.runs`` live runs and time the recovery."""
    run_ids = [f"live-{n:03d}" for n in range(sizes.runs)]
    async with rig.open_rig(options) as r:
        for run_id in run_ids:
            await r.submit(run_id, rig.chatty(3000, pace_ms=PACE_MS), agent=f"agent-{run_id}")
        await r.wait_runs(run_ids, what="running with output", limit=120.0 + sizes.runs,
                          ready=lambda run: run["phase"] == "running" and run["outputLines"] > 0)
        killed = time.time()
        await r.daemon.kill()
        restart_seconds = await r.daemon.start()
        recovery, followed, gaps = 0.0, dict[str, float](), dict[str, int]()
        with trio.move_on_after(60.0):
            while len(followed) < len(run_ids):
                await trio.sleep(0.1)
                recovery, followed, gaps = await trio.to_thread.run_sync(
                    _followed_again, str(r.daemon.db_path), run_ids)
        if len(followed) < len(run_ids):
            raise rig.RigError(f"{len(run_ids) - len(followed)} of {len(run_ids)} runs were "
                               "not followed again within 60 s of the restart")
    delays = [at - killed for at in followed.values()]
    worst = max(delays)
    return [Row(
        "recovery", f"SIGKILL with {len(run_ids)} live runs -> all followed again",
        f"{worst:.2f} s", f"< {TARGET_SECONDS:g} s", report.verdict(worst < TARGET_SECONDS),
        f"median run {report.percentile(delays, 50):.2f} s; new process answering "
        f"{restart_seconds:.2f} s after the kill (its replay + recovery pass "
        f"{recovery:.2f} s); gaps recorded: {sum(gaps.values())}")]
