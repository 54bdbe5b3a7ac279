"""Rows of measured figures and the one table they are printed as.

A benchmark returns :class:`Row` values; whether a figure meets its target is shown, never
enforced (benchmarks measure, they do not fail on timing).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

MET = "met"
MISSED = "MISSED"


@dataclass(frozen=True)
class Row:
    """One measured figure.

    Args:
        group: the benchmark it belongs to (``events``, ``follow`` …).
        measure: what was measured, with its conditions.
        figure: the figure, with its unit.
        target: the issue's target, if it sets one (shown as written there).
        verdict: :data:`MET`, :data:`MISSED` or empty when there is no target.
        detail: the baseline and ratio, percentiles, sizes — whatever explains the figure.
    """

    group: str
    measure: str
    figure: str
    target: str = ""
    verdict: str = ""
    detail: str = ""


def verdict(met: bool) -> str:
    """The verdict column for a figure with a target."""
    return MET if met else MISSED


def percentile(values: Sequence[float], q: float) -> float:
    """The nearest-rank ``q``-th percentile (0 < q <= 100) of ``values``.

    Raises:
        ValueError: no values, or q outside (0, 100].
    """
    if not values:
        raise ValueError("percentile of no values")
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], not {q}")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def render(machine: str, rows: Sequence[Row], *, elapsed: float, mode: str) -> str:
    """The table as text: a header naming the machine, then one line per row."""
    headers = ("group", "measure", "figure", "target", "", "detail")
    cells = [(r.group, r.measure, r.figure, r.target, r.verdict, r.detail) for r in rows]
    widths = [max([len(h)] + [len(c[i]) for c in cells]) for i, h in enumerate(headers)]
    # The detail column is last and left ragged, so long details do not widen the table.
    widths[-1] = len(headers[-1])

    def line(values: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    out = [f"machine: {machine}", f"mode: {mode}; wall time {elapsed:.0f} s", "",
           line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(c) for c in cells)
    return "\n".join(out) + "\n"
