"""The table and the statistics the benchmarks report with."""

from __future__ import annotations

import pytest

from bench import report
from bench.report import Row


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 50) == 50.0
    assert report.percentile(values, 99) == 99.0
    assert report.percentile(values, 100) == 100.0
    assert report.percentile([5.0, 1.0, 3.0], 50) == 3.0  # unsorted input
    assert report.percentile([7.0], 99) == 7.0


@pytest.mark.parametrize("values, q", [([], 50), ([1.0], 0), ([1.0], 101)])
def test_percentile_refuses_nonsense(values: list[float], q: float) -> None:
    with pytest.raises(ValueError):
        report.percentile(values, q)


def test_render_aligns_columns_and_names_the_machine() -> None:
    rows = [Row("events", "replay", "500,000 events/s", ">= 500,000", report.verdict(True),
                "1.0 s"),
            Row("follow", "latency", "p99 200 ms", "< 100 ms", report.verdict(False))]
    text = report.render("a test machine", rows, elapsed=12.3, mode="full")
    lines = text.splitlines()
    assert lines[0] == "machine: a test machine"
    assert lines[1] == "mode: full; wall time 12 s"
    table = lines[3:]
    assert len(table) == 4  # header, rule, two rows
    # Every column boundary lines up, whatever the cell lengths.
    bars = {tuple(i for i, ch in enumerate(line) if ch == "|")[:6] for line in table}
    assert len(bars) == 1
    assert "| met    |" in table[2] and "| MISSED |" in table[3]
