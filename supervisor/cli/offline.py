"""``replay`` and ``demo``: the commands that work on an event log with no daemon and no cluster."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

import msgspec

from events import replay, store
from supervisor.cli import common


def register(sub: argparse._SubParsersAction[common.Parser]) -> None:
    rp = sub.add_parser("replay", help="show what an event log says, offline")
    rp.add_argument("db", help="path to an event log (a copy is fine)")
    rp.add_argument("--run", help="only this run")
    rp.add_argument("--until", type=common.non_negative_int, help="stop at this seq")
    rp.add_argument("--format", choices=("text", "json"), default="text")
    rp.add_argument("--no-transcript", action="store_true", help="text format: omit output")
    rp.set_defaults(handler=cmd_replay)

    dp = sub.add_parser("demo", help="write an example event log and replay it offline")
    dp.add_argument("--db", help="where to write the log (default: a temp dir)")
    dp.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    from supervisor import example_log

    path = args.db or os.path.join(tempfile.mkdtemp(prefix="paperclip-demo-"), "events.db")
    example_log.write_example_log(path)
    print(f"wrote an example event log to {path}; replaying it offline:\n")
    return cmd_replay(
        argparse.Namespace(db=path, run=None, until=None, format="text", no_transcript=False))


def cmd_replay(args: argparse.Namespace) -> int:
    with store.EventStore.open_readonly(args.db) as log:
        if args.run is not None and not log.read(0, run_id=args.run, limit=1, with_data=False):
            return common.fail(f"no run {args.run!r} in {args.db}", common.EXIT_USAGE)
        if args.format == "json":
            out = replay.render_json(log, run_id=args.run, until=args.until)
            sys.stdout.write(msgspec.json.format(msgspec.json.encode(out)).decode() + "\n")
        else:
            for chunk in replay.render_text(log, run_id=args.run, until=args.until,
                                            show_transcript=not args.no_transcript):
                sys.stdout.write(chunk)
    return common.EXIT_OK
