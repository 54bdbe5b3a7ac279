"""``python -m bench``: measure the project's figures and print them as one table.

Benchmarks measure; a missed target is shown in the table, never an error. The exit status
is 1 only when a benchmark could not run at all (its row says why), so a smoke run of
``--quick`` catches benchmark code that no longer works.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import trio

from bench import events_bench, fleet_bench, follow_bench, procs, recovery_bench, report, rig
from bench.report import Row
from bench.synthetic import Shape

GROUPS = ("events", "follow", "fleet", "recovery")


def _stages(text: str) -> tuple[int, ...]:
    try:
        stages = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected run counts like 10,50,200, got {text!r}"
                                         ) from None
    if not stages or any(n < 1 for n in stages) or list(stages) != sorted(set(stages)):
        raise argparse.ArgumentTypeError(f"expected increasing positive run counts, got {text!r}")
    return stages


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}"
                                             ) from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
        return value
    return parse


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="tiny sizes everywhere: a smoke run in well under a minute")
    p.add_argument("--only", action="append", choices=GROUPS, metavar="NAME",
                   help=f"run only this group (repeatable): {', '.join(GROUPS)}")
    p.add_argument("--fleet-stages", type=_stages, metavar="N,N,…",
                   help="simultaneous runs at each fleet stage (default 10,50,200)")
    p.add_argument("--window", type=_positive(float), metavar="SECONDS",
                   help=f"measurement window per fleet stage (default {fleet_bench.WINDOW_SECONDS:g})")
    p.add_argument("--recovery-runs", type=_positive(int), metavar="N",
                   help=f"live runs when the daemon is killed (default {recovery_bench.RUNS})")
    p.add_argument("--follow-lines", type=_positive(int), metavar="N",
                   help=f"lines the throughput run prints (default {follow_bench.FOLLOW_LINES:,})")
    p.add_argument("--replay-events", type=_positive(int), metavar="N",
                   help="events in the uniform replay log (default 1,000,000)")
    p.add_argument("--growth-mb", type=_positive(int), metavar="MIB",
                   help="grow the replayed log to this size (default 1024)")
    p.add_argument("--daemon-src", type=Path, metavar="DIR",
                   help="run the daemon from this checkout (to measure a proposed change)")
    p.add_argument("--keep", action="store_true",
                   help="keep the daemon's and kubesim's temporary directories")
    return p


def _scaled(args: argparse.Namespace) -> tuple[events_bench.Sizes, follow_bench.Sizes,
                                               fleet_bench.Sizes, recovery_bench.Sizes]:
    if args.quick:
        events = events_bench.Sizes(appends=10_000, writer_events=5_000, replay_events=50_000,
                                    realistic=Shape(runs=20, lines=250), growth_bytes=16 << 20)
        follow = follow_bench.Sizes(follow_lines=3_000, latency_lines=100)
        fleet = fleet_bench.Sizes(stages=(2, 4), window=3.0, keepalive=1.0)
        recovery = recovery_bench.Sizes(runs=3)
    else:
        events, follow = events_bench.Sizes(), follow_bench.Sizes()
        fleet, recovery = fleet_bench.Sizes(), recovery_bench.Sizes()
    if args.replay_events:
        events = dataclasses.replace(events, replay_events=args.replay_events)
    if args.growth_mb:
        events = dataclasses.replace(events, growth_bytes=args.growth_mb << 20)
    if args.follow_lines:
        follow = dataclasses.replace(follow, follow_lines=args.follow_lines)
    if args.fleet_stages:
        fleet = dataclasses.replace(fleet, stages=args.fleet_stages)
    if args.window:
        fleet = dataclasses.replace(fleet, window=args.window)
    if args.recovery_runs:
        recovery = dataclasses.replace(recovery, runs=args.recovery_runs)
    return events, follow, fleet, recovery


def run(argv: Sequence[str] | None = None) -> int:
    """Run the chosen groups and print the table; returns the exit status."""
    args = parser().parse_args(argv)
    events, follow, fleet, recovery = _scaled(args)
    options = rig.RigOptions(daemon_src=args.daemon_src, keep=args.keep)
    steps: dict[str, Callable[[], list[Row]]] = {
        "events": lambda: events_bench.run(events),
        "follow": lambda: trio.run(follow_bench.run, follow, options),
        "fleet": lambda: trio.run(fleet_bench.run, fleet, options),
        "recovery": lambda: trio.run(recovery_bench.run, recovery, options),
    }
    chosen = [g for g in GROUPS if not args.only or g in args.only]
    load_before = os.getloadavg()
    began = time.perf_counter()
    rows: list[Row] = []
    failed = False
    for group in chosen:
        print(f"bench: {group} …", file=sys.stderr, flush=True)
        step_began = time.perf_counter()
        try:
            rows += steps[group]()
        except Exception as exc:  # one broken group must not hide the others' figures
            failed = True
            rows.append(Row(group, "(could not run)", "error",
                            detail=f"{type(exc).__name__}: {exc}"))
        print(f"bench: {group} done in {time.perf_counter() - step_began:.0f} s",
              file=sys.stderr, flush=True)
    load_after = os.getloadavg()
    mode = "quick (smoke sizes, figures not meaningful)" if args.quick else "full"
    if args.daemon_src:
        mode += f"; daemon from {args.daemon_src}"
    machine = (f"{procs.machine()}; load average {load_before[0]:.2f} before, "
               f"{load_after[0]:.2f} after")
    sys.stdout.write(report.render(machine, rows, elapsed=time.perf_counter() - began,
                                   mode=mode))
    return 1 if failed else 0


def main() -> None:
    sys.exit(run())


if __name__ == "__main__":
    main()
