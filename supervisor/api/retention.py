"""Retention: remove whole finished runs past a retention period, and record that it happened.

Why this module exists: the log is append-only except for this one operator action. Only whole
runs go — every event of a run, so a replay never sees half a run — only runs that ended (a
terminal phase) and whose task in this daemon is over, and only those whose last event is older
than the cut-off. A ``runs.pruned`` event then records the prune; the fold drops those runs when
it meets it, so a replay of the remaining log gives the same state as the live daemon.

Order: the rows are deleted first (one transaction) and the summary appended after. A crash in
between leaves a consistent log that merely lacks the summary (a second prune finds nothing to
remove); the other order could leave events behind that no later prune would ever find.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from events import replay, state
from supervisor.api import schemas
from supervisor.api.reader import LogReader
from supervisor.engine.supervisor import Supervisor


def prunable(folded: state.LogState, *, cutoff: float,
             is_live: Callable[[str], bool]) -> list[str]:
    """Ids of the runs a prune with this cut-off removes, oldest first. Pure.

    Args:
        folded: the current state.
        cutoff: wall-clock seconds; a run qualifies when its last event is older.
        is_live: whether the daemon still has a task for the run (never pruned).
    """
    runs = sorted(folded.runs.values(), key=lambda r: r.first_seq)
    return [run.run_id for run in runs
            if run.terminal and run.updated_at < cutoff and not is_live(run.run_id)]


async def prune(sup: Supervisor, log_reader: LogReader, *, older_than: float,
                dry_run: bool = False, now: float | None = None) -> schemas.PruneResponse:
    """Remove (or with ``dry_run`` only list) the runs that ended more than ``older_than`` s ago.

    Raises:
        trio.ClosedResourceError: the writer has stopped (the daemon is stopping).
    """
    cutoff = (time.time() if now is None else now) - older_than

    def is_live(run_id: str) -> bool:
        handle = sup.handle(run_id)
        return handle is not None and not handle.finished.is_set()

    run_ids = prunable(sup.state, cutoff=cutoff, is_live=is_live)
    seq: int | None = None
    if dry_run or not run_ids:
        removed = 0
        for run_id in run_ids:
            removed += len(await log_reader.read(0, run_id=run_id, with_data=False))
    else:
        removed, seq = await sup.prune(run_ids, finished_before=cutoff)
    return schemas.PruneResponse(
        finished_before=replay.iso(cutoff) or "", run_ids=run_ids, events_removed=removed,
        dry_run=dry_run, seq=seq)
