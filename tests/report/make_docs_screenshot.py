"""Regenerate ``docs/timeline.png``, the README's picture of a run's timeline.

Run from the repository root: ``.venv/bin/python -m tests.report.make_docs_screenshot``.
It writes the demo log (:func:`tests.report.logs.write_demo_log`), renders its run's page
and has Debian's chromium screenshot it headless.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from events import EventStore
from supervisor.report import render_html
from tests.report import chromium, logs

ROOT = Path(__file__).resolve().parents[2]


def main(out: Path) -> None:
    if chromium.CHROMIUM is None:
        sys.exit("needs Debian's chromium: apt-get install -y chromium")
    with tempfile.TemporaryDirectory(prefix="timeline-") as scratch:
        work = Path(scratch)
        logs.write_demo_log(str(work / "events.db"))
        with EventStore.open_readonly(work / "events.db") as log:
            page = render_html(log, logs.DEMO_RUN)
        # The page names its log file; show the path an operator would have typed.
        page = page.replace(str(work / "events.db"), "events.db")
        (work / "run.html").write_text(page, encoding="utf-8")
        chromium.screenshot(work / "run.html", work / "run.png", profile=work / "profile",
                            size="1400,1500")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(work / "run.png", out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "timeline.png")
