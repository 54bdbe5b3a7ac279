"""A run's transcript for the HTML page: every output line through the human formatter.

Each line the pod printed becomes one entry rendered by :func:`supervisor.pretty.format_line`
(assistant text, tool calls, tool results folded to their first line), tagged with a kind for
styling and the seq of the chunk that carried it. Lifecycle events are interleaved where they
happened, so a reconnect or a gap is seen in place. The page embeds the entries as JSON
(gzip + base64 above a size) and a little script pages through them, which keeps 100,000 lines
usable. A size budget bounds the page: if the transcript would exceed it, every entry is cut to
the same greatest length that fits; entries are shortened, never dropped.
"""

from __future__ import annotations

import base64
import gzip
import heapq
from collections.abc import Iterator, Sequence
from typing import NamedTuple

import msgspec

from events import store
from supervisor import pretty, streamjson
from supervisor.report import runview

# The kinds an entry can have; the page gets this table and each entry an index into it.
KINDS = ("system", "assistant", "thinking", "tool-call", "tool-result", "tool-error", "user",
         "result", "error", "rate-limit", "plain", "event", "event-error", "gap")
_KIND_INDEX = {kind: index for index, kind in enumerate(KINDS)}

# One entry never shows more than this (a pasted file in an assistant message, a huge line).
ENTRY_MAX_CHARS = 4000
# The text of one page's transcripts together; beyond it entries are cut down evenly.
DEFAULT_BUDGET_CHARS = 12_000_000
# Entries are never cut below this, whatever the budget says.
MIN_ENTRY_CHARS = 120
# Payloads larger than this are gzipped and base64-encoded (the page inflates them itself).
COMPRESS_ABOVE_BYTES = 256 * 1024

# format_line's labels, first match wins; a line of a failed result makes the entry an error.
_PREFIXES = (("Claude initialized", "system"), ("assistant:", "assistant"),
             ("thinking:", "thinking"), ("tool_call:", "tool-call"),
             ("tool_result (error)", "tool-error"), ("tool_result", "tool-result"),
             ("user:", "user"), ("result:", "result"), ("tokens:", "result"),
             ("rate_limit:", "rate-limit"))
_ERROR_PREFIXES = ("claude_result:", "claude_errors:", "permission_denied:")


class Entry(NamedTuple):
    seq: int
    kind: str
    text: str


class Payload(NamedTuple):
    """A transcript ready to embed: ``encoding`` is ``json`` or ``gzip+base64``."""

    encoding: str
    body: str
    entries: int
    clipped: int


def output_lines(log: store.EventStore, run_id: str, *,
                 until: int | None = None) -> Iterator[tuple[int, bytes]]:
    """Every line the run printed, in order, with the seq of the chunk that carried it."""
    for stored in log.iter(0, until=until, run_id=run_id, kinds=("log.chunk",)):
        for line in streamjson.split_lines(stored.data or b""):
            yield stored.seq, line


def classify(text: str) -> str:
    """The entry kind of a formatted line (see :data:`KINDS`)."""
    lines = text.split("\n")
    if any(line.startswith(_ERROR_PREFIXES) for line in lines):
        return "error"
    for prefix, kind in _PREFIXES:
        if lines[0].startswith(prefix):
            return kind
    return "plain"


def build_entries(log: store.EventStore, run_id: str, *, until: int | None = None,
                  events: Sequence[runview.Mark] = ()) -> list[Entry]:
    """The run's output lines, formatted, with ``events`` interleaved by seq."""
    output = (Entry(seq, classify(text), text)
              for seq, line in output_lines(log, run_id, until=until)
              if (text := pretty.format_line(line)) is not None)
    markers = (Entry(mark.seq, _event_kind(mark), f"{mark.kind}  {mark.summary}".rstrip())
               for mark in events)
    return list(heapq.merge(output, markers, key=lambda entry: entry.seq))


def _event_kind(mark: runview.Mark) -> str:
    if mark.kind == "log.gap":
        return "gap"
    return "event-error" if mark.severity == "error" else "event"


def clip(entries: list[Entry], budget_chars: int) -> tuple[list[Entry], int]:
    """Cut entries to one common length so their text fits ``budget_chars``.

    Returns the entries and how many were cut. The cap is the largest one that fits, between
    :data:`MIN_ENTRY_CHARS` and :data:`ENTRY_MAX_CHARS`.
    """
    lengths = [len(entry.text) for entry in entries]
    cap = ENTRY_MAX_CHARS
    if sum(min(n, cap) for n in lengths) > budget_chars:
        low, high = MIN_ENTRY_CHARS, ENTRY_MAX_CHARS
        while low < high:  # the largest cap whose total fits
            middle = (low + high + 1) // 2
            if sum(min(n, middle) for n in lengths) <= budget_chars:
                low = middle
            else:
                high = middle - 1
        cap = low
    out: list[Entry] = []
    clipped = 0
    for entry in entries:
        if len(entry.text) > cap:
            clipped += 1
            more = len(entry.text) - cap
            entry = entry._replace(text=f"{entry.text[:cap]}… ({more} more characters)")
        out.append(entry)
    return out, clipped


def encode(entries: list[Entry], *, budget_chars: int = DEFAULT_BUDGET_CHARS) -> Payload:
    """The entries as the page's embedded data, cut to the budget and compressed if large."""
    kept, clipped = clip(entries, budget_chars)
    doc = {"kinds": KINDS,
           "entries": [[entry.seq, _KIND_INDEX[entry.kind], entry.text] for entry in kept]}
    raw = msgspec.json.encode(doc)
    if len(raw) <= COMPRESS_ABOVE_BYTES:
        # Inside <script>: a "<" could close the element, so it is written as a JSON escape.
        return Payload("json", raw.decode().replace("<", "\\u003c"), len(kept), clipped)
    packed = base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")
    return Payload("gzip+base64", packed, len(kept), clipped)


def decode(payload: Payload) -> list[Entry]:
    """Read a payload back (what the page's script does); for tests and tools."""
    raw = payload.body.encode()
    if payload.encoding == "gzip+base64":
        raw = gzip.decompress(base64.b64decode(raw))
    doc = msgspec.json.decode(raw)
    kinds = doc["kinds"]
    return [Entry(seq, kinds[kind], text) for seq, kind, text in doc["entries"]]
