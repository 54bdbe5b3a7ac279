"""Command line for running the Messages API stub in its own process.

It prints its base URL on the first stdout line, then serves until SIGTERM/SIGINT or until
`--lifetime` seconds have passed, so a forgotten stub never outlives a test session for long.
"""

from __future__ import annotations

import argparse
import signal
import sys
from functools import partial
from pathlib import Path

import msgspec
import trio

from kubesim.messages_stub import app as stub_app
from kubesim.messages_stub import replies, server

DEFAULT_LIFETIME_SECONDS = 900.0


def build_parser() -> argparse.ArgumentParser:
    """The stub's command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m kubesim.messages_stub",
        description="Loopback stub of the Anthropic Messages API (streaming SSE).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--scenario", choices=replies.SCRIPT_NAMES, default="text")
    parser.add_argument("--text", default="hi", help="reply text (scenario text)")
    parser.add_argument("--command", default="echo hi", help="Bash command (scenario tool)")
    parser.add_argument("--status", type=int, default=400, help="HTTP status (scenario error400)")
    parser.add_argument("--message", default="stub: scripted bad request",
                        help="error message (scenario error400)")
    parser.add_argument("--seed", type=int, default=0, help="seed for message and tool ids")
    parser.add_argument("--record", type=Path, help="append each request as a JSON line here")
    parser.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME_SECONDS,
                        help="stop after this many seconds")
    return parser


def script_from(args: argparse.Namespace) -> replies.Script:
    """The script the parsed options ask for."""
    if args.scenario == "text":
        return replies.Script.text(args.text)
    if args.scenario == "tool":
        return replies.Script.tool(args.command)
    return replies.Script.error(args.status, args.message)


def _appender(path: Path, record: stub_app.RecordedRequest) -> None:
    with path.open("ab") as f:
        f.write(msgspec.json.encode(record) + b"\n")


async def run(args: argparse.Namespace) -> None:
    """Serve until a signal or the lifetime ends."""
    on_record = partial(_appender, args.record) if args.record is not None else None
    app = stub_app.MessagesApp(script=script_from(args), seed=args.seed, on_record=on_record)
    stop = trio.Event()
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async with trio.open_nursery() as nursery:
            url = await nursery.start(partial(server.serve, app, host=args.host, port=args.port,
                                              shutdown_trigger=stop.wait))
            print(url, flush=True)
            with trio.move_on_after(args.lifetime):
                async for _ in signals:
                    break
            stop.set()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = build_parser().parse_args(argv)
    try:
        server.check_loopback(args.host)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    trio.run(run, args)
    return 0
