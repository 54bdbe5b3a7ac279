"""The page in a real browser: Debian's chromium, headless (skipped where it is absent).

Rendering to PNG shows the SVG and the styles work; dumping the DOM after the scripts ran
shows the transcript pager works, including the gzipped payload of a 100,000-line run and a
mark's link landing on its entry.
"""

from __future__ import annotations

import re
from pathlib import Path

from events import EventStore
from supervisor.report import render_html, svg
from tests.report import chromium, png

pytestmark = chromium.requires_chromium


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def test_timeline_renders_to_a_non_blank_png(story_db: Path, tmp_path: Path) -> None:
    page = tmp_path / "run.html"
    with EventStore.open_readonly(story_db) as log:
        page.write_text(render_html(log, "run-good"), encoding="utf-8")
    image = png.decode(chromium.screenshot(page, tmp_path / "run.png", profile=tmp_path / "p"))
    assert (image.width, image.height) == (1400, 900)
    colours = image.colours(step=2)
    total = sum(colours.values())
    background, most = colours.most_common(1)[0]
    assert background == (255, 255, 255)
    assert most / total < 0.9, "the page is (nearly) blank"
    assert len(colours) > 50
    # The timeline itself was drawn: its running band and its rate bars are on screen.
    assert colours[_rgb(svg.PHASE_COLOURS["running"])] > 500
    assert colours[_rgb(svg.RATE_COLOUR)] > 100


def test_big_transcript_pages_and_a_mark_link_lands_on_its_entry(
        big_db: Path, tmp_path: Path) -> None:
    page = tmp_path / "big.html"
    with EventStore.open_readonly(big_db) as log:
        gap = log.read(0, kinds=("log.gap",))[0].seq
        page.write_text(render_html(log, "run-big"), encoding="utf-8")
    dom = chromium.dump_dom(f"{page.resolve().as_uri()}#r0-seq-{gap}", profile=tmp_path / "p")
    where = re.search(r'class="where">entries (\d+)–(\d+) of (\d+) \(page (\d+) of (\d+)\)', dom)
    assert where is not None, "the transcript script did not render a page"
    first, last, total, number, pages = map(int, where.groups())
    assert total > 100_000 and pages == -(-total // 250) and last - first == 249
    assert 1 < number < pages  # the gap is in the middle of the run, not on page 1
    assert re.search(rf'<li class="entry k-gap target" id="r0-seq-{gap}">', dom)
    assert len(re.findall(r'<li class="entry ', dom)) == 250
