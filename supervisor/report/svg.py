"""Draw a :class:`~supervisor.report.runview.RunView` as an inline SVG timeline.

Lanes, top to bottom: phase bands, output rate (lines per second, one bar per bucket),
keepalive ticks, then one lane per kind of mark (restarts, reconnects, gaps, faults, control).
Silences and supervisor downtime are shaded across every lane. Every mark is a link to its
entry in the transcript and carries a ``<title>``, so hovering shows the event. The drawing is
plain SVG 1.1 with no namespace URL, script, font or external reference: it is meant to sit
inside the HTML page. Elements carry ``data-kind``/``data-seq`` so tests can count them.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from supervisor.report import runview, units

WIDTH = 1200
_LEFT, _RIGHT, _TOP = 92, 16, 22
_PLOT = WIDTH - _LEFT - _RIGHT
_PHASE_H, _RATE_H, _TICK_H, _LANE_H, _GAP = 22, 84, 14, 17, 6
_AXIS_H = 16
# Keep a few pixels after the last event so a final band or mark stays visible.
_RIGHT_PAD = 0.015

PHASE_COLOURS = {
    "pending": "#cbd5e1", "scheduling": "#fcd34d", "running": "#86efac", "finishing": "#93c5fd",
    "succeeded": "#16a34a", "failed": "#dc2626", "cancelled": "#6b7280", "lost": "#a21caf",
}
SEVERITY_COLOURS = {"info": "#2563eb", "warn": "#ea580c", "error": "#dc2626"}
RESTART_COLOUR = "#7c3aed"
RATE_COLOUR = "#2563eb"
_LANE_LABELS = {"restart": "restarts", "reconnect": "reconnects", "gap": "gaps",
                "fault": "faults", "control": "control"}
# Nice spacings for the time axis, in seconds.
_STEPS = (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
          43200, 86400)


def render_svg(view: runview.RunView, *, anchor: Callable[[int], str]) -> str:
    """The run's timeline as an ``<svg>`` element (a string).

    Args:
        view: the run to draw.
        anchor: turns a seq into the fragment a mark links to (e.g. ``r0-seq-12``).
    """
    return _Drawing(view, anchor).render()


class _Drawing:
    def __init__(self, view: runview.RunView, anchor: Callable[[int], str]) -> None:
        self.view = view
        self.anchor = anchor
        self.domain = view.duration * (1 + _RIGHT_PAD)
        self.parts: list[str] = []
        y = _TOP
        self.phase_y = y
        y += _PHASE_H + _GAP
        self.rate_y = y
        y += _RATE_H + _GAP
        self.tick_y = y
        y += _TICK_H
        self.lane_y = {}
        for lane in runview.LANES:
            self.lane_y[lane] = y
            y += _LANE_H
        self.bottom = y
        self.height = y + _AXIS_H

    def x(self, seconds: float) -> float:
        return _LEFT + _PLOT * max(0.0, seconds) / self.domain

    def add(self, text: str) -> None:
        self.parts.append(text)

    def render(self) -> str:
        run = self.view.run
        label = escape(f"timeline of run {run.run_id}: {run.phase}, "
                       f"{units.duration(self.view.duration)}", quote=True)
        self.add(f'<svg class="timeline" data-run="{escape(run.run_id, quote=True)}" '
                 f'viewBox="0 0 {WIDTH} {self.height}" width="{WIDTH}" height="{self.height}" '
                 f'role="img" aria-label="{label}">')
        self.add('<defs><pattern id="down" width="6" height="6" patternUnits="userSpaceOnUse" '
                 'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f1f5f9"/>'
                 '<line x1="0" y1="0" x2="0" y2="6" stroke="#94a3b8" stroke-width="2"/>'
                 '</pattern></defs>')
        self.add(f'<rect x="{_LEFT}" y="{self.rate_y}" width="{_PLOT}" height="{_RATE_H}" '
                 'fill="#f8fafc"/>')
        self._axis()
        self._shading()
        self._phases()
        self._rate()
        self._keepalives()
        self._lanes()
        self.add("</svg>")
        return "".join(self.parts)

    # --- the frame ---------------------------------------------------------------------

    def _axis(self) -> None:
        step = next((s for s in _STEPS if self.domain / s <= 10), _STEPS[-1])
        self.add('<g class="axis">')
        tick = 0.0
        while tick <= self.domain:
            x = self.x(tick)
            self.add(f'<line x1="{x:.1f}" y1="{_TOP - 4}" x2="{x:.1f}" y2="{self.bottom}" '
                     'stroke="#e2e8f0"/>')
            self.add(f'<text x="{x:.1f}" y="{_TOP - 8}" text-anchor="middle">'
                     f"{_tick_label(tick, step)}</text>")
            tick += step
        labels = [("phase", self.phase_y, _PHASE_H), ("output", self.rate_y, _RATE_H),
                  ("keepalive", self.tick_y, _TICK_H)]
        labels += [(_LANE_LABELS[lane], y, _LANE_H) for lane, y in self.lane_y.items()]
        for text, y, height in labels:
            self.add(f'<text class="lane" x="{_LEFT - 8}" y="{y + height / 2 + 4:.1f}" '
                     f'text-anchor="end">{text}</text>')
        self.add(f'<line x1="{_LEFT}" y1="{self.bottom}" x2="{WIDTH - _RIGHT}" '
                 f'y2="{self.bottom}" stroke="#94a3b8"/>')
        self.add("</g>")

    def _shading(self) -> None:
        """Silences and downtime, behind everything, across all lanes."""
        top, height = self.phase_y, self.bottom - self.phase_y
        for silence in self.view.silences:
            x0, x1 = self.x(silence.start), self.x(silence.end)
            title = (f"silence: no output for {units.duration(silence.end - silence.start)} "
                     f"({units.offset(silence.start)} to {units.offset(silence.end)}), "
                     f"{silence.keepalives} keepalive ticks")
            self.add(f'<rect class="silence" data-kind="silence" x="{x0:.1f}" y="{top}" '
                     f'width="{max(1.0, x1 - x0):.1f}" height="{height}" fill="#fde68a" '
                     f'fill-opacity="0.45" stroke="#f59e0b" stroke-dasharray="3 2">'
                     f"<title>{escape(title)}</title></rect>")
        for down in self.view.downtimes:
            x0, x1 = self.x(down.start), self.x(down.end)
            how = "stopped" if down.clean else "crashed (no stop recorded); down at most"
            title = f"supervisor {how} {units.duration(down.end - down.start)}"
            self.add(f'<rect class="downtime" data-kind="downtime" x="{x0:.1f}" y="{top}" '
                     f'width="{max(1.0, x1 - x0):.1f}" height="{height}" fill="url(#down)" '
                     f'fill-opacity="0.8"><title>{escape(title)}</title></rect>')

    # --- the lanes -------------------------------------------------------------------

    def _phases(self) -> None:
        y = self.phase_y
        for band in self.view.bands:
            x0 = self.x(band.start)
            width = max(3.0, self.x(band.end) - x0)
            colour = PHASE_COLOURS.get(band.phase, "#e5e7eb")
            live = " (live)" if self.view.live and band is self.view.bands[-1] else ""
            title = (f"{band.phase}{live}: {units.offset(band.start)} to "
                     f"{units.offset(band.end)} ({units.duration(band.end - band.start)})")
            name = escape(band.phase, quote=True)  # a newer supervisor may write new phases
            self.add(f'<g class="band" data-kind="phase" data-phase="{name}">'
                     f'<rect x="{x0:.1f}" y="{y}" width="{width:.1f}" height="{_PHASE_H}" '
                     f'fill="{colour}"/><title>{escape(title)}</title>')
            if width > 7 * len(band.phase) + 8:
                light = band.phase in ("succeeded", "failed", "cancelled", "lost")
                self.add(f'<text x="{x0 + 4:.1f}" y="{y + 15}" '
                         f'fill="{"#ffffff" if light else "#1e293b"}">{name}</text>')
            self.add("</g>")

    def _rate(self) -> None:
        y, height = self.rate_y, _RATE_H
        filled = [bucket for bucket in self.view.buckets if bucket.lines]
        if not filled:
            self.add(f'<text class="note" x="{_LEFT + 6}" y="{y + 16}">no output</text>')
            return
        width = self.view.buckets[0].end - self.view.buckets[0].start
        peak = max(bucket.lines for bucket in filled) / width
        self.add(f'<text class="note" x="{_LEFT - 8}" y="{y + height / 2 + 17:.1f}" '
                 f'text-anchor="end">peak {peak:.1f}/s</text>')
        self.add('<g class="rate">')
        for bucket in filled:
            rate = bucket.lines / width
            bar = max(1.0, height * rate / peak)
            x0, x1 = self.x(bucket.start), self.x(bucket.end)
            title = (f"{units.offset(bucket.start)} to {units.offset(bucket.end)}: "
                     f"{bucket.lines} lines ({rate:.1f}/s), {units.size(bucket.nbytes)}")
            self.add(f'<rect x="{x0:.1f}" y="{y + height - bar:.1f}" '
                     f'width="{max(0.8, x1 - x0 - 0.3):.1f}" height="{bar:.1f}" '
                     f'fill="{RATE_COLOUR}"><title>{title}</title></rect>')
        self.add("</g>")

    def _keepalives(self) -> None:
        """One tick per pixel column at most: a long run's ticks would otherwise pile up."""
        columns: dict[int, list[float]] = {}
        for at in self.view.keepalives:
            columns.setdefault(round(self.x(at)), []).append(at)
        self.add('<g class="keepalives">')
        for column, ticks in sorted(columns.items()):
            what = (f"keepalive at {units.offset(ticks[0])}" if len(ticks) == 1 else
                    f"{len(ticks)} keepalives, {units.offset(ticks[0])} to "
                    f"{units.offset(ticks[-1])}")
            self.add(f'<rect data-kind="keepalive.ticked" data-count="{len(ticks)}" '
                     f'x="{column - 0.75:.2f}" y="{self.tick_y + 2}" width="1.5" '
                     f'height="{_TICK_H - 4}" fill="#475569"><title>{what}</title></rect>')
        self.add("</g>")

    def _lanes(self) -> None:
        for mark in self.view.marks:
            if mark.kind == "supervisor.started":
                x = self.x(mark.at)
                self.add(f'<line x1="{x:.1f}" y1="{self.phase_y}" x2="{x:.1f}" '
                         f'y2="{self.bottom}" stroke="{RESTART_COLOUR}" stroke-dasharray="4 3"/>')
        self.add('<g class="marks">')
        for mark in self.view.marks:
            x = self.x(mark.at)
            cy = self.lane_y[mark.lane] + _LANE_H / 2
            colour = (RESTART_COLOUR if mark.lane == "restart"
                      else SEVERITY_COLOURS.get(mark.severity, SEVERITY_COLOURS["info"]))
            title = f"#{mark.seq} {units.offset(mark.at)} {mark.kind}\n{mark.summary}".rstrip()
            self.add(f'<a class="mark" href="#{self.anchor(mark.seq)}" data-kind="{mark.kind}" '
                     f'data-seq="{mark.seq}"><title>{escape(title)}</title>'
                     f"{_shape(mark.lane, mark.kind, x, cy, colour)}</a>")
        self.add("</g>")


def _tick_label(seconds: float, step: float) -> str:
    if step < 1 or seconds >= 60:
        return units.offset(seconds)
    return f"+{seconds:.0f}s"


def _shape(lane: str, kind: str, x: float, cy: float, colour: str) -> str:
    """A distinct symbol per lane, so marks read without colour too."""
    r = 5.5
    if lane == "restart":
        if kind == "supervisor.stopped":
            return (f'<rect x="{x - r + 1:.1f}" y="{cy - r + 1:.1f}" width="{2 * r - 2:.1f}" '
                    f'height="{2 * r - 2:.1f}" fill="#ffffff" stroke="{colour}" stroke-width="2"/>')
        return (f'<path d="M{x:.1f} {cy - r - 1:.1f}L{x + r + 1:.1f} {cy:.1f}L{x:.1f} '
                f'{cy + r + 1:.1f}L{x - r - 1:.1f} {cy:.1f}Z" fill="{colour}"/>')
    if lane == "reconnect":
        return (f'<path d="M{x:.1f} {cy - r:.1f}L{x + r:.1f} {cy + r:.1f}L{x - r:.1f} '
                f'{cy + r:.1f}Z" fill="{colour}"/>')
    if lane == "gap":
        return (f'<rect x="{x - 2:.1f}" y="{cy - r - 1:.1f}" width="4" height="{2 * r + 2:.1f}" '
                f'fill="{colour}"/>')
    if lane == "fault":
        return (f'<path d="M{x - r:.1f} {cy - r:.1f}L{x + r:.1f} {cy + r:.1f}M{x + r:.1f} '
                f'{cy - r:.1f}L{x - r:.1f} {cy + r:.1f}" stroke="{colour}" stroke-width="2.5"/>'
                f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="{r + 1:.1f}" fill="transparent"/>')
    return f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="{r - 0.5:.1f}" fill="{colour}"/>'
