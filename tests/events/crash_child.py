"""Child for the crash test: appends batches forever, printing each acknowledged seq."""

from __future__ import annotations

import random
import sys
import time

from events import EventStore, types


def main() -> None:
    path, seed = sys.argv[1], int(sys.argv[2])
    rng = random.Random(seed)
    with EventStore.open(path) as log:
        counter = log.max_seq()
        while True:
            batch = []
            for _ in range(rng.randint(1, 20)):
                counter += 1
                text = f"line {counter}\n".encode()
                batch.append((types.LogChunk(run_id=f"run-{counter % 3}", ts=time.time(),
                                             lines=1, nbytes=len(text), cursor_offset=counter),
                              text))
            seqs = log.append(batch)
            sys.stdout.write(f"{seqs[-1]}\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
