"""``replay`` and ``demo``: the commands that work on an event log with no daemon and no cluster."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import IO

import msgspec

from events import replay, store
from supervisor import report
from supervisor.cli import common


def _kinds(text: str) -> tuple[str, ...]:
    try:
        return report.parse_kinds(text)
    except report.BadKinds as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(sub: argparse._SubParsersAction[common.Parser]) -> None:
    rp = sub.add_parser("replay", help="show what an event log says, offline")
    rp.add_argument("db", help="path to an event log (a copy is fine)")
    rp.add_argument("--run", help="only this run (with --diff: run A)")
    rp.add_argument("--until", type=common.non_negative_int, help="stop at this seq")
    rp.add_argument("--format", choices=("text", "json", "html"), default="text",
                    help="html: one self-contained page with each run's timeline")
    rp.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    rp.add_argument("--no-transcript", action="store_true", help="text format: omit output")
    rp.add_argument("--silence", type=common.positive_float, metavar="SECONDS",
                    default=replay.DEFAULT_SILENCE_SECONDS,
                    help="html/diff: a stretch without output longer than this is a silence")
    mode = rp.add_mutually_exclusive_group()
    mode.add_argument("--diff", metavar="RUN_B", help="compare --run A with RUN_B")
    mode.add_argument("--export", choices=("jsonl",), help="write the events as JSON lines")
    rp.add_argument("--kinds", type=_kinds, metavar="K1,K2",
                    help="--export/--follow: only these kinds (globs allowed: log.*)")
    rp.add_argument("--follow", action="store_true",
                    help="tail a live daemon's log read-only until Ctrl-C")
    rp.add_argument("--after", type=common.non_negative_int, metavar="SEQ",
                    help="--export/--follow: start after this seq (--follow default: the end)")
    rp.set_defaults(handler=cmd_replay)

    dp = sub.add_parser("demo", help="a live run against the embedded Kubernetes simulator, "
                                      "then an offline replay of its event log")
    dp.add_argument("--offline", action="store_true",
                    help="only write an example event log and replay it (no simulator)")
    dp.add_argument("--db", help="--offline: where to write the log (default: a temp dir)")
    dp.add_argument("--keep", action="store_true", help="keep the demo's files")
    dp.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if not args.offline:
        from supervisor import demo

        return demo.main(keep=args.keep)
    from supervisor import example_log

    path = args.db or os.path.join(tempfile.mkdtemp(prefix="paperclip-demo-"), "events.db")
    example_log.write_example_log(path)
    print(f"wrote an example event log to {path}; replaying it offline:\n")
    return cmd_replay(argparse.Namespace(
        db=path, run=None, until=None, format="text", no_transcript=False, output=None,
        silence=replay.DEFAULT_SILENCE_SECONDS, diff=None, export=None, kinds=None,
        follow=False, after=None))


@contextlib.contextmanager
def _output(path: str | None) -> Iterator[IO[bytes]]:
    if path is None:
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()
    else:
        with open(path, "wb") as fh:
            yield fh


def cmd_replay(args: argparse.Namespace) -> int:
    if args.diff is not None and args.run is None:
        return common.fail("--diff RUN_B needs --run RUN_A", common.EXIT_USAGE)
    if args.follow and (args.diff is not None or args.format != "text"):
        return common.fail("--follow prints events as they come (or JSON lines with "
                           "--export jsonl); it cannot be combined with --diff or --format",
                           common.EXIT_USAGE)
    if args.kinds and not (args.export or args.follow):
        return common.fail("--kinds applies to --export and --follow", common.EXIT_USAGE)
    if args.follow:
        return _follow(args)
    with store.EventStore.open_readonly(args.db) as log:
        for run_id in (args.run, args.diff):
            if run_id is not None and not log.read(0, run_id=run_id, limit=1, with_data=False):
                return common.fail(f"no run {run_id!r} in {args.db}", common.EXIT_USAGE)
        with _output(args.output) as out:
            if args.export == "jsonl":
                report.export_jsonl(log, out, run_id=args.run, kinds=args.kinds,
                                    after=args.after or 0, until=args.until)
            elif args.diff is not None:
                diff = report.diff_runs(log, args.run, args.diff, until=args.until,
                                        silence_seconds=args.silence)
                out.write(msgspec.json.format(msgspec.json.encode(diff)) + b"\n"
                          if args.format == "json" else report.render_diff_text(diff).encode())
            elif args.format == "html":
                out.write(report.render_html(log, args.run, until=args.until,
                                             silence_seconds=args.silence).encode())
            elif args.format == "json":
                doc = replay.render_json(log, run_id=args.run, until=args.until)
                out.write(msgspec.json.format(msgspec.json.encode(doc)) + b"\n")
            else:
                for chunk in replay.render_text(log, run_id=args.run, until=args.until,
                                                show_transcript=not args.no_transcript):
                    out.write(chunk.encode())
    return common.EXIT_OK


def _follow(args: argparse.Namespace) -> int:
    events = report.follow(args.db, after=args.after, run_id=args.run, kinds=args.kinds)
    colour = args.output is None and sys.stdout.isatty()
    with _output(args.output) as out:
        for stored in events:  # until Ctrl-C (main() turns it into exit 130)
            line = (report.export.encode_line(stored) if args.export == "jsonl"
                    else report.format_event(stored, color=colour).encode())
            out.write(line)
            out.flush()
    return common.EXIT_OK
