"""``replay --format html``: one self-contained page with each run's timeline and transcript.

Operators debug a bad run from a copy of the log, days later, with no cluster: a picture of the
run is faster than thousands of events. The page has, per run, its facts, the SVG timeline
(:mod:`supervisor.report.svg`), the lifecycle events as a table and the transcript
(:mod:`supervisor.report.transcript`). Everything is inline: no script, style, font or image is
fetched, and a Content-Security-Policy of ``default-src 'none'`` makes the browser refuse any
fetch a future change might add. The output depends only on the log, so it can be compared.
"""

from __future__ import annotations

from html import escape

from events import replay, store
from supervisor.report import assets, runview, svg, transcript, units

# The lifecycle table is for reading; past this many rows the page says how many were left out.
MAX_EVENT_ROWS = 2000
# A run with no more lifecycle events than this shows its table unfolded.
OPEN_EVENT_ROWS = 40

_CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
        "img-src data:; base-uri 'none'; form-action 'none'")


def render_html(
    log: store.EventStore,
    run_id: str | None = None,
    *,
    until: int | None = None,
    silence_seconds: float = replay.DEFAULT_SILENCE_SECONDS,
    budget_chars: int = transcript.DEFAULT_BUDGET_CHARS,
) -> str:
    """The timeline page for one run, or for every run in the log when ``run_id`` is None.

    Args:
        log: an open event log (read-only is fine).
        run_id: the run to show; None shows all runs in the order they started.
        until: ignore events after this seq (the page shows the log as it was then).
        silence_seconds: highlight stretches without output longer than this.
        budget_chars: the most transcript text the page embeds, shared by its runs; longer
            transcripts have their longest entries cut (never dropped).

    Raises:
        UnknownRun: ``run_id`` is not in the log.
    """
    if run_id is None:
        folded = replay.state_at(log, until)
        run_ids = sorted(folded.runs, key=lambda rid: folded.runs[rid].first_seq)
    else:
        run_ids = [run_id]
    views = [runview.build_run_view(log, rid, until=until, silence_seconds=silence_seconds)
             for rid in run_ids]
    share = budget_chars // max(1, len(views))
    sections = [_section(log, view, f"r{index}", until=until, budget_chars=share)
                for index, view in enumerate(views)]
    title = (f"run {run_ids[0]}" if run_id is not None else f"{len(views)} runs")
    last = log.max_seq() if until is None else min(until, log.max_seq())
    nav = ""
    if len(views) > 1:
        links = "".join(f'<a href="#r{index}">{escape(view.run.run_id)}</a>'
                        for index, view in enumerate(views))
        nav = f'<nav class="runs">{links}</nav>'
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} · paperclip-supervisor timeline</title>",
        f"<style>{assets.CSS}</style></head><body>",
        f"<header><h1>Run timeline: {escape(title)}</h1>",
        f'<p class="meta">event log <code>{escape(log.path)}</code>, up to seq {last}; '
        f"times are UTC and seconds since each run's first event; silences are stretches "
        f"over {units.duration(silence_seconds)} without output.</p></header>",
        nav, *sections,
        f"<script>{assets.JS}</script></body></html>\n",
    ])


def _section(log: store.EventStore, view: runview.RunView, prefix: str, *,
             until: int | None, budget_chars: int) -> str:
    run = view.run
    entries = transcript.build_entries(log, run.run_id, until=until, events=view.events)
    payload = transcript.encode(entries, budget_chars=budget_chars)
    chart = svg.render_svg(view, anchor=lambda seq: f"{prefix}-seq-{seq}")
    phase = run.phase + (" (live)" if view.live else "")
    error = (f' <span class="pill error">{escape(run.error_code)}</span>'
             if run.error_code else "")
    clipped = (f"; {payload.clipped} long entries cut to fit the page (full text: "
               f"<code>paperclip-supervisor replay DB --run {escape(run.run_id)}</code>)"
               if payload.clipped else "")
    return "".join([
        f'<section class="run" id="{prefix}">',
        f"<h2>run <code>{escape(run.run_id)}</code> "
        f'<span class="pill phase-{escape(run.phase)}">{escape(phase)}</span>{error}</h2>',
        _facts(view), _legend(),
        f'<div class="chart">{chart}</div>',
        _events_table(view, prefix),
        "<h3>Transcript</h3>",
        f'<div class="transcript" data-prefix="{prefix}" data-source="{prefix}-data">',
        '<div class="pager"><button data-go="first">« first</button>'
        '<button data-go="prev">‹ prev</button><button data-go="next">next ›</button>'
        '<button data-go="last">last »</button><span class="where">loading…</span>'
        '<input class="filter" type="search" placeholder="filter text" aria-label="filter">'
        '<select class="only" aria-label="show"><option value="all">everything</option>'
        '<option value="conversation">without tool results</option>'
        '<option value="problems">errors and events only</option></select></div>',
        f'<p class="meta">{payload.entries} entries: output lines through the human '
        f"formatter, lifecycle events in place{clipped}.</p>",
        '<ol class="entries"></ol>',
        "<noscript><p>The transcript needs JavaScript; "
        f"<code>paperclip-supervisor replay DB --run {escape(run.run_id)}</code> prints it."
        "</p></noscript></div>",
        f'<script type="application/json" id="{prefix}-data" '
        f'data-encoding="{payload.encoding}">{payload.body}</script>',
        "</section>",
    ])


def _facts(view: runview.RunView) -> str:
    run = view.run
    result = run.result
    rows = [
        ("agent", run.agent_id), ("task", run.task_key), ("session", run.session_id),
        ("job", f"{run.namespace}/{run.job_name}" if run.job_name else ""),
        ("pod", run.pod_name), ("started", units.clock(view.start_ts)),
        ("duration" if not view.live else "so far", units.duration(view.duration)),
        ("output", f"{run.output_lines} lines, {units.size(run.output_bytes)}"),
        ("chunks", str(view.chunks)),
        ("exit code", "" if run.exit_code is None else str(run.exit_code)),
        ("job outcome", run.job_outcome),
        ("reconnects", str(run.reconnects)), ("gaps", str(run.gaps)),
        ("restarts", str(view.restarts)), ("keepalives", str(run.keepalives)),
        ("silences", str(len(view.silences))),
        ("follower crashes", str(run.follower_crashes) if run.follower_crashes else ""),
        ("cancel", "requested" if run.cancel_requested else ""),
        ("model", result.model if result else ""),
        ("cost", f"${result.cost_usd:.4f}" if result and result.cost_usd is not None else ""),
    ]
    items = "".join(f"<div><dt>{name}</dt><dd title=\"{escape(value, quote=True)}\">"
                    f"{escape(value)}</dd></div>" for name, value in rows if value)
    problem = (f'<p class="problem">{escape(run.error_code)}: {escape(run.error_message)}</p>'
               if run.error_message else "")
    return f'<dl class="facts">{items}</dl>{problem}'


def _legend() -> str:
    swatches = [(phase, colour) for phase, colour in svg.PHASE_COLOURS.items()]
    swatches += [("silence", "#fde68a"), ("supervisor down", "#94a3b8"),
                 ("restart", svg.RESTART_COLOUR), ("warning", svg.SEVERITY_COLOURS["warn"]),
                 ("error", svg.SEVERITY_COLOURS["error"])]
    return '<div class="legend">' + "".join(
        f'<span style="--swatch: {colour}">{name}</span>' for name, colour in swatches) + "</div>"


def _events_table(view: runview.RunView, prefix: str) -> str:
    rows = []
    for mark in view.events[:MAX_EVENT_ROWS]:
        anchor = f"{prefix}-seq-{mark.seq}"
        rows.append(
            f'<tr class="{mark.severity if mark.lane else ""}">'
            f'<td><a href="#{anchor}">#{mark.seq}</a></td><td>{units.offset(mark.at)}</td>'
            f'<td class="kind">{escape(mark.kind)}</td>'
            f'<td class="summary">{escape(mark.summary)}</td></tr>')
    more = len(view.events) - MAX_EVENT_ROWS
    if more > 0:
        rows.append(f'<tr><td colspan="4">… {more} more events: '
                    f"<code>paperclip-supervisor replay</code> lists them all.</td></tr>")
    opened = " open" if len(view.events) <= OPEN_EVENT_ROWS else ""
    return (f'<details class="events"{opened}><summary>Lifecycle events ({len(view.events)})</summary>'
            f'<table class="events">{"".join(rows)}</table></details>')
