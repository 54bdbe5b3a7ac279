"""``python -m bench --quick`` still runs every benchmark end to end and prints its table.

Timing is never asserted (benchmarks measure, they do not fail on figures): only that every
group ran, that each expected figure is in the table with a number, and that the machine is
described. The benchmark runs in its own session, which is killed whatever happens, so the
daemon it starts never outlives the test (kubesim watches the benchmark and stops with it).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys

import pytest

TIMEOUT_SECONDS = 240
EXPECTED = {
    "events": ["append, 1 event per transaction (baseline)", "group commit, 1 concurrent writer",
               "group commit, 10 concurrent writers", "group commit, 100 concurrent writers",
               "state-only replay, 50,000 events", "state-only replay, realistic log",
               "replay time, log grown to"],
    "follow": ["log follow, one run", "latency pod print -> socket client"],
    "fleet": ["2 runs: daemon memory", "4 runs: daemon CPU", "4 runs: keepalive tick jitter",
              "4 runs: Kubernetes API requests, steady", "4 runs: event log growth"],
    "recovery": ["SIGKILL with 3 live runs -> all followed again"],
}


def _run_bench(*args: str) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen([sys.executable, "-m", "bench", *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=TIMEOUT_SECONDS)
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # the daemon is in the same group
        except ProcessLookupError:
            pass
        process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _rows(stdout: str) -> dict[str, list[str]]:
    """Each table row's cells, keyed by its measure."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 6 and cells[0] in EXPECTED:
            rows[cells[1]] = cells
    return rows


@pytest.mark.slow
def test_quick_run_prints_every_figure() -> None:
    done = _run_bench("--quick")
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert re.match(r"machine: .+, \d+ cores, \d+ GiB RAM, .*Python 3\.\d+", done.stdout), \
        done.stdout
    assert "| group " in done.stdout and "| measure " in done.stdout
    rows = _rows(done.stdout)
    for group, measures in EXPECTED.items():
        for measure in measures:
            found = [cells for name, cells in rows.items() if name.startswith(measure)]
            assert found, f"{group}: no row {measure!r} in\n{done.stdout}"
            assert all(cells[0] == group for cells in found)
            assert all(re.search(r"\d", cells[2]) for cells in found), found
    verdicts = {cells[4] for cells in rows.values()}
    assert verdicts <= {"", "met", "MISSED"}, verdicts
    assert "(could not run)" not in done.stdout


def test_only_runs_the_named_group_and_bad_options_are_named() -> None:
    done = _run_bench("--quick", "--only", "events")
    assert done.returncode == 0, done.stderr
    groups = {cells[0] for cells in _rows(done.stdout).values()}
    assert groups == {"events"}

    bad = _run_bench("--fleet-stages", "50,10")
    assert bad.returncode == 2
    assert "--fleet-stages" in bad.stderr and "increasing" in bad.stderr
