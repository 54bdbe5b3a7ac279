"""The HTML timeline: well-formed, self-contained, a mark for every event that needs one."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from events import EventStore, types
from supervisor.pretty import format_line
from supervisor.report import UnknownRun, render_html, transcript
from tests.report import htmlcheck

# The most a 100,000-line run's page may weigh (it is about 0.8 MB).
BIG_PAGE_LIMIT = 5_000_000


@pytest.fixture(scope="module")
def story_page(story_db: Path) -> str:
    with EventStore.open_readonly(story_db) as log:
        return render_html(log)


@pytest.fixture(scope="module")
def big_page(big_db: Path) -> str:
    with EventStore.open_readonly(big_db) as log:
        return render_html(log, "run-big")


def _window(log: EventStore, run_id: str) -> tuple[int, int]:
    seqs = [s.seq for s in log.iter(0, run_id=run_id, with_data=False)]
    return seqs[0], seqs[-1]


def test_page_is_well_formed_and_self_contained(story_page: str) -> None:
    page = htmlcheck.read_page(story_page)
    assert page.problems == []
    assert [page.count(tag) for tag in ("html", "head", "body", "style")] == [1, 1, 1, 1]
    assert htmlcheck.external_references(page) == []
    for marker in ("http://", "https://", "@import"):
        assert marker not in story_page
    csp = next(a["content"] for tag, a in page.tags
               if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp
    assert len(htmlcheck.svgs(story_page)) == 4  # one timeline per run


def test_the_checker_finds_external_references() -> None:
    """The self-containment check above can fail: it sees each way out of a page."""
    page = htmlcheck.read_page(
        '<html><head><link rel="stylesheet" href="x.css"><style>@import "y.css"; '
        'b { background: url(//cdn/z.png) } i { fill: url(#ok) }</style>'
        '<script src="https://cdn/a.js"></script></head><body><a href="//evil/">x</a>'
        '<svg><image href="data:,"/></svg><p style="background:url(http://q)">.</p>'
        "</body></html>")
    found = set(htmlcheck.external_references(page))
    assert found == {"<link> element", "<link href='x.css'>", "<script src='https://cdn/a.js'>",
                     "<a href='//evil/'>", "<image> element", "<image href='data:,'>",
                     "css '@import \"y.css\"'", "css url(//cdn/z.png)", "css url(http://q)"}


def test_every_reconnect_gap_and_restart_has_exactly_one_mark(
        story_db: Path, story_page: str) -> None:
    drawn = {svg.get("data-run"): svg for svg in htmlcheck.svgs(story_page)}
    totals: collections.Counter[str] = collections.Counter()
    with EventStore.open_readonly(story_db) as log:
        for run_id, svg in drawn.items():
            assert run_id is not None
            first, last = _window(log, run_id)
            expected = {
                "log.reconnected": log.read(0, run_id=run_id, kinds=("log.reconnected",)),
                "log.gap": log.read(0, run_id=run_id, kinds=("log.gap",)),
                "supervisor.started": log.read(first, until=last, run_id="",
                                               kinds=("supervisor.started",)),
                "supervisor.stopped": log.read(first, until=last, run_id="",
                                               kinds=("supervisor.stopped",)),
            }
            marks = htmlcheck.marks(svg)
            for kind, events in expected.items():
                seqs = sorted(int(a.get("data-seq", "0")) for a in marks
                              if a.get("data-kind") == kind)
                assert seqs == [e.seq for e in events], (run_id, kind)
                totals[kind] += len(seqs)
            for mark in marks:  # hovering shows the event; clicking goes to its entry
                title = mark.find("title")
                assert title is not None and (title.text or "").startswith(
                    f"#{mark.get('data-seq')} ")
                assert mark.get("href", "").endswith(f"-seq-{mark.get('data-seq')}")
        # The story has 5 reconnects, 1 gap and 2 restarts (one clean, one a crash).
        assert totals == {"log.reconnected": 5, "log.gap": 1, "supervisor.started": 2,
                          "supervisor.stopped": 1}
        assert totals["log.reconnected"] == len(log.read(0, kinds=("log.reconnected",)))


def test_faults_and_control_events_are_marked(story_page: str) -> None:
    drawn = {svg.get("data-run"): {a.get("data-kind") for a in htmlcheck.marks(svg)}
             for svg in htmlcheck.svgs(story_page)}
    assert drawn["run-nojob"] == {"job.create_failed", "run.finished"}
    assert drawn["run-cancelled"] == {"cancel.requested", "job.terminal", "run.finished"}
    assert {"pod.pending", "follower.crashed", "container.exited", "result.parsed",
            "job.terminal", "run.finished"} <= drawn["run-flaky"]
    assert "run.finished" not in drawn["run-good"]  # it succeeded: no error to mark


def test_phases_silences_and_keepalives_are_drawn(story_page: str) -> None:
    drawn = {svg.get("data-run"): svg for svg in htmlcheck.svgs(story_page)}
    good = drawn["run-good"]
    phases = [g.get("data-phase") for g in good.iter("g") if g.get("data-kind") == "phase"]
    assert phases == ["pending", "scheduling", "running", "finishing", "succeeded"]
    silences = [r for r in good.iter("rect") if r.get("data-kind") == "silence"]
    assert len(silences) == 1
    assert "6 keepalive ticks" in (silences[0].findtext("title") or "")
    ticks = [r for r in good.iter("rect") if r.get("data-kind") == "keepalive.ticked"]
    assert sum(int(r.get("data-count", "0")) for r in ticks) == 6
    downtimes = [r for svg in drawn.values() for r in svg.iter("rect")
                 if r.get("data-kind") == "downtime"]
    assert len(downtimes) == 2


def test_transcript_is_every_output_line_through_the_formatter(
        story_db: Path, story_page: str) -> None:
    page = htmlcheck.read_page(story_page)
    sections = [a["id"] for tag, a in page.tags if tag == "section"]
    assert sections == ["r0", "r1", "r2", "r3"]  # runs in the order they started
    entries = transcript.decode(page.payload("r3"))  # run-flaky
    with EventStore.open_readonly(story_db) as log:
        output = []
        for stored in log.iter(0, run_id="run-flaky", kinds=("log.chunk",)):
            for line in (stored.data or b"").split(b"\n")[:-1]:
                text = format_line(line)
                if text is not None:
                    output.append((stored.seq, text))
        first, last = _window(log, "run-flaky")
        lifecycle = {s.seq for s in log.iter(0, run_id="run-flaky", with_data=False)
                     if s.kind not in ("log.chunk", "keepalive.ticked")}
        lifecycle |= {s.seq for s in log.iter(first, until=last, run_id="", with_data=False)}
    assert [(e.seq, e.text) for e in entries if e.kind not in ("event", "event-error", "gap")] \
        == output
    assert {e.seq for e in entries if e.kind in ("event", "event-error", "gap")} == lifecycle
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)
    assert {"tool-call", "tool-result", "assistant", "error", "gap"} <= {e.kind for e in entries}


def test_output_that_looks_like_markup_stays_text(tmp_path: Path) -> None:
    hostile = [b"</script><script>alert(1)</script>",
               b'<img src="http://evil.example/x.png">',
               json.dumps({"type": "assistant", "message": {"content": [
                   {"type": "tool_use", "name": "WebFetch",
                    "input": {"url": "https://example.com/<b>"}}]}}).encode()]
    path = tmp_path / "hostile.db"
    run_id = 'run-"<b>x</b>'
    with EventStore.open(path) as log:
        log.append([(types.RunRequested(run_id=run_id, ts=1.0, agent_id="a"), None),
                    (types.LogChunk(run_id=run_id, ts=2.0, lines=3), b"\n".join(hostile) + b"\n"),
                    (types.RunFinished(run_id=run_id, ts=3.0, phase="failed",
                                       error_code="<i>x</i>"), None)])
        markup = render_html(log, run_id)
    page = htmlcheck.read_page(markup)
    assert page.problems == []
    assert htmlcheck.external_references(page) == []
    assert page.count("script") == 2 and page.count("img") == 0 and page.count("b") == 0
    assert markup.count("</script>") == 2
    texts = [e.text for e in transcript.decode(page.payload("r0"))]
    assert texts[1:4] == [hostile[0].decode(), hostile[1].decode(),
                          "tool_call: WebFetch: https://example.com/<b>"]
    assert [svg.get("data-run") for svg in htmlcheck.svgs(markup)] == [run_id]


def test_a_100k_line_run_gives_a_bounded_page(big_db: Path, big_page: str) -> None:
    assert len(big_page.encode()) < BIG_PAGE_LIMIT
    page = htmlcheck.read_page(big_page)
    assert page.problems == [] and htmlcheck.external_references(page) == []
    payload = page.payload("r0")
    assert payload.encoding == "gzip+base64"
    entries = transcript.decode(payload)
    [svg] = htmlcheck.svgs(big_page)
    assert sum(1 for e in entries if e.kind not in ("event", "event-error", "gap")) == 100_000
    bars = [r for g in svg.iter("g") if g.get("class") == "rate" for r in g.iter("rect")]
    assert 200 < len(bars) <= 240  # aggregated into buckets, not one bar per chunk
    assert sum(1 for _ in svg.iter()) < 3000
    kinds = collections.Counter(a.get("data-kind") for a in htmlcheck.marks(svg))
    assert kinds == {"log.reconnected": 4, "log.gap": 1, "supervisor.started": 1,
                     "supervisor.stopped": 1, "job.terminal": 1}


def test_until_shows_the_run_as_it_was_then(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log:
        stopped = log.read(0, run_id="", kinds=("supervisor.stopped",))[0]
        markup = render_html(log, "run-good", until=stopped.seq)
    assert '<span class="pill phase-running">running (live)</span>' in markup
    assert f"up to seq {stopped.seq};" in markup


def test_an_unknown_run_is_a_clear_error(story_db: Path) -> None:
    with EventStore.open_readonly(story_db) as log, pytest.raises(UnknownRun, match="'nope'"):
        render_html(log, "nope")
