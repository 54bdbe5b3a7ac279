"""Reading a generated page back: well-formedness, external references, SVGs and payloads."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from html.parser import HTMLParser

from supervisor.report import transcript

VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                  "source", "track", "wbr"})
# Attributes through which a page can make the browser fetch something.
URL_ATTRIBUTES = frozenset({"src", "href", "xlink:href", "action", "formaction", "poster",
                            "data", "srcset", "background", "manifest", "cite", "ping"})
FETCHING_TAGS = frozenset({"link", "iframe", "img", "object", "embed", "base", "frame",
                           "audio", "video", "source", "track", "image", "use", "feimage"})


@dataclass
class Page:
    """What a page holds, as seen by a strict reader."""

    tags: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    styles: list[str] = field(default_factory=list)
    scripts: list[tuple[dict[str, str], str]] = field(default_factory=list)

    def count(self, tag: str) -> int:
        return sum(1 for name, _ in self.tags if name == tag)

    def payload(self, prefix: str) -> transcript.Payload:
        """The transcript data embedded for run section ``prefix`` (e.g. ``r0``)."""
        for attrs, body in self.scripts:
            if attrs.get("id") == f"{prefix}-data":
                return transcript.Payload(attrs["data-encoding"], body, 0, 0)
        raise AssertionError(f"no transcript payload for {prefix}")


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.page.tags.append((tag, values))
        if tag not in VOID:
            self.open.append(tag)
        self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.page.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            self.page.problems.append(f"</{tag}> closes {self.open[-1:] or 'nothing'}")
            return
        self.open.pop()
        text = "".join(self._text)
        if tag == "style":
            self.page.styles.append(text)
        elif tag == "script":
            attrs = next(a for name, a in reversed(self.page.tags) if name == "script")
            self.page.scripts.append((attrs, text))
        self._text = []


def read_page(markup: str) -> Page:
    """Parse a page; unbalanced tags are recorded in ``problems``."""
    reader = _Reader()
    reader.feed(markup)
    reader.close()
    if reader.open:
        reader.page.problems.append(f"never closed: {reader.open}")
    return reader.page


def external_references(page: Page) -> list[str]:
    """Everything in the page that could make a browser fetch from outside it."""
    found = []
    for tag, attrs in page.tags:
        if tag in FETCHING_TAGS:
            found.append(f"<{tag}> element")
        if tag == "script" and "src" in attrs:
            found.append(f"<script src={attrs['src']!r}>")
        for name, value in attrs.items():
            if name in URL_ATTRIBUTES and not value.startswith("#"):
                found.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                found += _css_references(value)
    for css in page.styles:
        found += _css_references(css)
    return found


def _css_references(css: str) -> list[str]:
    found = [f"css {match!r}" for match in re.findall(r"@import[^;]*", css)]
    found += [f"css url({ref})" for ref in re.findall(r"url\(\s*['\"]?([^)'\"]*)", css)
              if not ref.startswith("#")]
    return found


def svgs(markup: str) -> list[ET.Element]:
    """Every inline ``<svg>`` of the page, parsed as XML (so it must be well-formed XML)."""
    return [ET.fromstring(match) for match in re.findall(r"<svg\b.*?</svg>", markup, re.S)]


def marks(svg: ET.Element) -> list[ET.Element]:
    return [a for a in svg.iter("a") if a.get("class") == "mark"]
