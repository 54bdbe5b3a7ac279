"""Transcript entries: the human formatter per line, kinds, the size budget, the payload."""

from __future__ import annotations

import pytest

from supervisor.report import transcript
from supervisor.report.transcript import Entry


@pytest.mark.parametrize("text, kind", [
    ("Claude initialized (model: m)", "system"),
    ("assistant: hello", "assistant"),
    ("thinking: hmm", "thinking"),
    ("tool_call: Bash: ls", "tool-call"),
    ("tool_result: ok", "tool-result"),
    ("tool_result (error): boom", "tool-error"),
    ("user: hi", "user"),
    ("result: done\ntokens: in=1 out=2", "result"),
    ("result: API Error\nclaude_result: subtype=success is_error=true", "error"),
    ("rate_limit: type=five_hour status=rejected", "rate-limit"),
    ("plain text the pod printed", "plain"),
    ("assistant: one\nassistant: two", "assistant"),
])
def test_classify_by_the_formatters_labels(text: str, kind: str) -> None:
    assert transcript.classify(text) == kind
    assert kind in transcript.KINDS


def test_clip_keeps_every_entry_and_cuts_only_the_longest() -> None:
    entries = [Entry(i, "plain", "x" * n) for i, n in enumerate([50, 200, 5000, 300, 10])]
    kept, clipped = transcript.clip(entries, budget_chars=1000)
    lengths = [len(e.text.split("…")[0]) for e in kept]
    assert [e.seq for e in kept] == [0, 1, 2, 3, 4]
    cap = max(lengths)
    assert transcript.MIN_ENTRY_CHARS <= cap and sum(lengths) <= 1000
    assert sum(min(n, cap + 1) for n in [50, 200, 5000, 300, 10]) > 1000  # the largest cap
    assert clipped == sum(1 for n in [50, 200, 5000, 300, 10] if n > cap)
    assert kept[0].text == "x" * 50 and kept[2].text.endswith(f"({5000 - cap} more characters)")


def test_clip_never_goes_below_the_floor_and_caps_huge_entries() -> None:
    entries = [Entry(i, "plain", "y" * 1000) for i in range(100)]
    kept, clipped = transcript.clip(entries, budget_chars=10)
    assert clipped == 100
    assert all(e.text.startswith("y" * transcript.MIN_ENTRY_CHARS + "…") for e in kept)
    [huge], cut = transcript.clip([Entry(1, "plain", "z" * 10_000)], budget_chars=10**9)
    assert cut == 1 and huge.text.startswith("z" * transcript.ENTRY_MAX_CHARS + "…")


def test_small_payloads_are_plain_json_that_cannot_close_their_script() -> None:
    entries = [Entry(3, "plain", "</script><script>alert(1)</script>"), Entry(4, "gap", "<!--")]
    payload = transcript.encode(entries)
    assert payload.encoding == "json"
    assert "<" not in payload.body
    assert transcript.decode(payload) == entries


def test_large_payloads_are_gzipped_and_read_back_exactly() -> None:
    entries = [Entry(i, "assistant", f"assistant: step {i} " + "ab" * (i % 50))
               for i in range(20_000)]
    payload = transcript.encode(entries)
    assert payload.encoding == "gzip+base64"
    assert len(payload.body) < transcript.COMPRESS_ABOVE_BYTES * 2
    assert transcript.decode(payload) == entries
