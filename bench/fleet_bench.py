"""Many runs at once: daemon memory and CPU, keepalive jitter, Kubernetes API load, log growth.

One daemon takes a growing fleet — 10, then 50, then 200 simultaneous runs (each its own
agent, printing one ~530-byte stream-json line per second, as an agent thinking and calling
tools does). Once every run of a stage is running, a measurement window of fixed length is
taken, during which nothing is started or stopped:

* the daemon's resident memory now and at its peak (``/proc/PID/status`` VmRSS, VmHWM) and
  its CPU use over the window (``/proc/PID/stat``), kubesim's CPU for comparison;
* keepalive jitter: how much later than the configured interval each run's keepalive tick
  came, from the ``keepalive.ticked`` events in the log;
* Kubernetes API requests per minute over the window, per request class, as kubesim counted
  them, and how many requests starting each new run cost;
* how fast the event log grew, per run-hour of that output.
"""

from __future__ import annotations

import collections
import sqlite3
import time
from dataclasses import dataclass

import trio

from bench import procs, report, rig
from bench.report import Row
from events import EventStore

STAGES = (10, 50, 200)
WINDOW_SECONDS = 45.0
PACE_MS = 1000
KEEPALIVE_SECONDS = 15.0  # the daemon's default
RSS_TARGET_MB = 250
RSS_TARGET_RUNS = 200


@dataclass(frozen=True)
class Sizes:
    """The fleet stages and the window measured at each (scaled down by ``--quick``)."""

    stages: tuple[int, ...] = STAGES
    window: float = WINDOW_SECONDS
    keepalive: float = KEEPALIVE_SECONDS


def _db_bytes(path: str) -> int:
    """The log's logical size (committed pages, the WAL's included)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        return int(pages) * int(size)
    finally:
        conn.close()


def _jitter_ms(db_path: str, since: float, until: float, interval: float) -> list[float]:
    """How late each keepalive tick in the window came after its predecessor + interval."""
    ticks: dict[str, list[float]] = collections.defaultdict(list)
    with EventStore.open_readonly(db_path) as log:
        for stored in log.iter(0, kinds=("keepalive.ticked",), with_data=False):
            ticks[stored.run_id].append(stored.ts)
    late: list[float] = []
    for times in ticks.values():
        for before, after in zip(times, times[1:], strict=False):
            if since <= before and after <= until:
                late.append((after - before - interval) * 1e3)
    return late


def _breakdown(counts: dict[str, float], unit: str) -> str:
    shown = [f"{name} {value:,.{1 if unit else 0}f}{unit}" for name, value in
             sorted(counts.items(), key=lambda item: (-item[1], item[0])) if value]
    return ", ".join(shown) or "none"


def _delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {name: after.get(name, 0) - before.get(name, 0) for name in after}


async def _stage(r: rig.Rig, started: int, size: int, sizes: Sizes,
                 sim_pid: int) -> list[Row]:
    """Grow the fleet to ``size`` runs, wait until all run, measure one window."""
    before = await r.kubesim.request_counts()
    lines = 3600 * 1000 // PACE_MS  # an hour: outlasts every stage (pods die with kubesim)
    new = [f"fleet-{n:03d}" for n in range(started, size)]
    ramp_began = time.perf_counter()
    for run_id in new:
        await r.submit(run_id, rig.chatty(lines, pace_ms=PACE_MS), agent=f"agent-{run_id}")
    await r.wait_runs([f"fleet-{n:03d}" for n in range(size)], what="running with output",
                      limit=120.0 + size, ready=lambda run: run["phase"] == "running"
                      and run["outputLines"] > 0)
    ramp = time.perf_counter() - ramp_began
    at_start = await r.kubesim.request_counts()
    ramp_requests = _delta(at_start, before)

    cpu0, sim_cpu0 = r.daemon.cpu_seconds(), procs.cpu_seconds(sim_pid)
    bytes0, wall0, began = _db_bytes(str(r.daemon.db_path)), time.time(), time.perf_counter()
    await trio.sleep(sizes.window)  # the measurement window: nothing is started or stopped
    elapsed = time.perf_counter() - began
    wall1 = time.time()
    cpu = (r.daemon.cpu_seconds() - cpu0) / elapsed
    sim_cpu = (procs.cpu_seconds(sim_pid) - sim_cpu0) / elapsed
    memory = r.daemon.memory()
    grown = _db_bytes(str(r.daemon.db_path)) - bytes0
    counts = await r.kubesim.request_counts()
    window = _delta(counts, at_start)
    runs = await r.runs()
    if any(runs[f"fleet-{n:03d}"]["phase"] != "running" for n in range(size)):
        raise rig.RigError(f"a run of the {size}-run stage ended during the window")
    late = await trio.to_thread.run_sync(_jitter_ms, str(r.daemon.db_path), wall0, wall1,
                                         sizes.keepalive)

    rss_mb, hwm_mb = memory.rss / 2**20, memory.hwm / 2**20
    rows = []
    if size == RSS_TARGET_RUNS or size == max(sizes.stages):
        target = f"< {RSS_TARGET_MB} MB at {RSS_TARGET_RUNS} runs"
        met = report.verdict(hwm_mb < RSS_TARGET_MB) if size == RSS_TARGET_RUNS else ""
    else:
        target, met = "", ""
    rows.append(Row("fleet", f"{size} runs: daemon memory", f"{rss_mb:,.0f} MB RSS",
                    target, met, f"peak (VmHWM) {hwm_mb:,.0f} MB"))
    rows.append(Row("fleet", f"{size} runs: daemon CPU over {elapsed:.0f} s",
                    f"{cpu:.1%} of a core",
                    detail=f"kubesim {sim_cpu:.1%}; {size} lines/s in, "
                           f"{size / cpu if cpu else 0:,.0f} lines per CPU-second; "
                           f"ramp to {size} running took {ramp:.0f} s"))
    if late:
        rows.append(Row("fleet", f"{size} runs: keepalive tick jitter",
                        f"p99 {report.percentile(late, 99):.1f} ms",
                        detail=f"p50 {report.percentile(late, 50):.1f} ms, max {max(late):.1f} "
                               f"ms late over {len(late)} intervals of {sizes.keepalive:g} s"))
    per_minute = {name: value * 60 / elapsed for name, value in window.items()}
    streams = counts.get("get pods/log", 0)
    rows.append(Row("fleet", f"{size} runs: Kubernetes API requests, steady",
                    f"{sum(per_minute.values()):,.1f} /min",
                    detail=f"{_breakdown(per_minute, '/min')}; log streams opened so far "
                           f"{streams} for {size} pods; starting the {len(new)} new runs took "
                           f"{_breakdown(dict(ramp_requests), '')}"))
    growth = grown / (size * elapsed / 3600) / 2**20
    rows.append(Row("fleet", f"{size} runs: event log growth",
                    f"{growth:,.2f} MiB per run-hour",
                    detail=f"at 1 line/s of ~530 B and a keepalive every {sizes.keepalive:g} s; "
                           f"{grown / 2**20:,.1f} MiB in {elapsed:.0f} s"))
    return rows


async def run(sizes: Sizes, options: rig.RigOptions) -> list[Row]:
    """Every stage on one daemon, the fleet growing from stage to stage."""
    rows: list[Row] = []
    async with rig.open_rig(options, keepalive_interval=sizes.keepalive) as r:
        started = 0
        for size in sizes.stages:
            rows += await _stage(r, started, size, sizes, r.kubesim.process.pid)
            started = size
    return rows
