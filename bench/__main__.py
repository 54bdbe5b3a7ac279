"""``python -m bench [--quick]``: print the project's measured figures as a table."""

from __future__ import annotations

import argparse
import os
import platform
import resource

from bench import events_bench


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="a tenth of the work, for a smoke run")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    rows = events_bench.run(quick=args.quick)
    width = max(len(r[0]) for r in rows)
    for name, figure, detail in rows:
        print(f"{name:<{width}}  {figure:>20}  {detail}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'peak RSS':<{width}}  {peak:>17.0f} MB")


if __name__ == "__main__":
    main()
