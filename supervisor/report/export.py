"""``replay --export jsonl``: the log's events as JSON lines, for jq, pandas and friends.

One line per event in seq order, in the shape the socket API streams them
(:func:`events.codec.event_to_json`: ``seq``, ``runId``, ``ts``, ``kind``, the event's fields
in camelCase, and ``text`` for output chunks). Rows are streamed, so memory stays constant
for any size of log, and the log is only read.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import IO

import msgspec

from events import codec, store, types
from supervisor.report import errors

_encoder = msgspec.json.Encoder()


def parse_kinds(spec: str) -> tuple[str, ...]:
    """Read a ``--kinds`` list: comma-separated kinds, ``*`` globs allowed (``log.*``).

    Raises:
        BadKinds: the list is empty, or an item matches no event kind (the message lists
            the known kinds).
    """
    items = [item.strip() for item in spec.split(",") if item.strip()]
    if not items:
        raise errors.BadKinds("--kinds needs at least one event kind, e.g. run.finished,log.*")
    known = sorted(types.EVENT_CLASSES)
    kinds: list[str] = []
    for item in items:
        matched = fnmatch.filter(known, item)
        if not matched:
            raise errors.BadKinds(
                f"unknown event kind {item!r}; known kinds: {', '.join(known)}")
        kinds.extend(kind for kind in matched if kind not in kinds)
    return tuple(kinds)


def export_jsonl(
    log: store.EventStore,
    out: IO[bytes],
    *,
    run_id: str | None = None,
    kinds: Sequence[str] | None = None,
    after: int = 0,
    until: int | None = None,
) -> int:
    """Write events with ``after < seq <= until`` as JSON lines to ``out``; returns how many.

    Args:
        log: an open event log (read-only is fine).
        out: a binary stream (``sys.stdout.buffer``, a file opened ``"wb"``).
        run_id: only this run's events ("" selects the daemon-wide events).
        kinds: only these kinds (see :func:`parse_kinds`).
    """
    written = 0
    for stored in log.iter(after, until=until, run_id=run_id, kinds=kinds):
        out.write(encode_line(stored))
        written += 1
    return written


def encode_line(stored: codec.StoredEvent) -> bytes:
    """One event as a JSON line (with its newline)."""
    return _encoder.encode(codec.event_to_json(stored)) + b"\n"
