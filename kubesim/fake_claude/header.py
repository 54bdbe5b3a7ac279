"""Find and split the `#scenario NAME key=value ...` line that picks what the fake plays.

The first line of the prompt that starts with `#scenario` is the header (normally the very
first line; allowing it later keeps it working when a caller puts text in front of the
prompt). Values may be quoted shell-style: `#scenario happy text="two words"`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

MARKER = "#scenario"


class HeaderError(ValueError):
    """The scenario header is malformed."""


@dataclass(frozen=True)
class Header:
    """A parsed header: the scenario name and its raw `key=value` settings, in order."""

    name: str
    settings: dict[str, str] = field(default_factory=dict)


def find(prompt: str) -> Header | None:
    """The prompt's scenario header, or None when it has none.

    Raises:
        HeaderError: the header has no scenario name, a token without `=`, a repeated key,
            or unbalanced quotes.
    """
    for line in prompt.splitlines():
        stripped = line.strip()
        if stripped == MARKER or stripped.startswith(MARKER + " "):
            return parse(stripped)
    return None


def parse(line: str) -> Header:
    """Split one header line (starting with `#scenario`) into name and settings."""
    try:
        tokens = shlex.split(line[len(MARKER):])
    except ValueError as exc:
        raise HeaderError(f"cannot split scenario header {line!r}: {exc}") from exc
    if not tokens:
        raise HeaderError("scenario header names no scenario: write '#scenario NAME key=value'")
    name, *pairs = tokens
    settings: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise HeaderError(f"scenario setting {pair!r} is not key=value")
        if key in settings:
            raise HeaderError(f"scenario setting {key!r} is given twice")
        settings[key] = value
    return Header(name=name, settings=settings)
