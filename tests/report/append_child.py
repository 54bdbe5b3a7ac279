"""A stand-in for a live daemon: appends events to a log until told to stop.

Run as ``python -m tests.report.append_child LOG``. It holds the writer lock for as long as it
runs, appends batches of events without pause, and after each batch checks (without blocking)
whether a line arrived on stdin; on ``stop`` (or end of input) it prints the last seq it wrote and exits.
"""

from __future__ import annotations

import select
import sys

from events import store, types

BATCH = 5


def main(path: str) -> None:
    with store.EventStore.open(path) as log:
        print(f"ready {log.max_seq()}", flush=True)
        n = 0
        while True:
            batch = []
            for _ in range(BATCH):
                n += 1
                batch.append((types.LogChunk(run_id="run-live", ts=1_800_000_000.0 + n, lines=1,
                                             nbytes=8, cursor_offset=8 * n), b"line %d\n" % n))
            seqs = log.append(batch)
            readable, _, _ = select.select([sys.stdin], [], [], 0)
            if readable and sys.stdin.readline().strip() in ("stop", ""):  # "" is EOF
                print(f"stopped {seqs[-1]}", flush=True)
                return


if __name__ == "__main__":
    main(sys.argv[1])
