"""What every command shares: exit codes, the argument parser class, small parsers and output.

Exit codes (all commands):

    0    ok
    1    the operation failed: a followed run ended other than ``succeeded``, or ``health``
         found the daemon unhealthy
    2    bad arguments, a bad file or config, or the daemon rejected the request as invalid
         (HTTP 400/413); a one-line reason on stderr
    3    no daemon answers on the socket
    4    no such run (HTTP 404)
    5    conflict (HTTP 409): the runId exists with a different request, or the result was
         asked for before the run ended
    130  interrupted (Ctrl-C)
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

import msgspec

from supervisor import config

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_NOT_FOUND = 4
EXIT_CONFLICT = 5
EXIT_INTERRUPTED = 130

SOCKET_ENV = "PAPERCLIP_SUPERVISOR_SOCKET"
PROG = "paperclip-supervisor"


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error exits with :data:`EXIT_USAGE` and one reason line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration(text: str) -> float:
    """``90``, ``90s``, ``30m``, ``12h``, ``7d``, ``2w`` or combinations like ``1h30m`` → seconds."""
    value = text.strip().lower()
    try:
        seconds = float(value)
    except ValueError:
        pos, seconds = 0, 0.0
        for match in _DURATION_PART.finditer(value):
            if match.start() != pos:
                break
            seconds += float(match[1]) * _UNIT_SECONDS[match[2]]
            pos = match.end()
        if pos != len(value) or not value:
            raise argparse.ArgumentTypeError(
                f"expected a duration such as 90s, 30m, 12h, 7d or 1h30m, got {text!r}") from None
    if not seconds > 0:
        raise argparse.ArgumentTypeError(f"duration must be > 0, got {text!r}")
    return seconds


def add_socket_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--socket", default=os.environ.get(SOCKET_ENV, config.DEFAULT_SOCKET_PATH),
        help=f"the daemon's API socket (default: ${SOCKET_ENV} or {config.DEFAULT_SOCKET_PATH})")


def fail(message: str, code: int) -> int:
    """Print a one-line reason on stderr and return the exit code."""
    print(f"{PROG}: {message}", file=sys.stderr)
    return code


def print_json(value: Any) -> None:
    sys.stdout.write(msgspec.json.format(msgspec.json.encode(value)).decode() + "\n")
