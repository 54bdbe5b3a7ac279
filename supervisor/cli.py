"""The ``paperclip-supervisor`` command line: argument parsing and output only.

Exit codes: 0 ok; 1 the operation failed (e.g. a run ended in failure when waited on);
2 bad arguments or a bad file, with a one-line reason on stderr; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

import msgspec

from events import errors as log_errors
from events import replay, store

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="paperclip-supervisor",
                     description="Run Paperclip's Claude Code agent runs as Kubernetes Jobs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    rp = sub.add_parser("replay", help="show what an event log says, offline")
    rp.add_argument("db", help="path to an event log (a copy is fine)")
    rp.add_argument("--run", help="only this run")
    rp.add_argument("--until", type=_positive_int, help="stop at this seq")
    rp.add_argument("--format", choices=("text", "json"), default="text")
    rp.add_argument("--no-transcript", action="store_true", help="text format: omit output")
    rp.set_defaults(handler=_cmd_replay)

    dp = sub.add_parser("demo", help="write an example event log and replay it offline")
    dp.add_argument("--db", help="where to write the log (default: a temp dir)")
    dp.set_defaults(handler=_cmd_demo)
    return parser


def _cmd_demo(args: argparse.Namespace) -> int:
    import tempfile

    from supervisor import example_log

    path = args.db or os.path.join(tempfile.mkdtemp(prefix="paperclip-demo-"), "events.db")
    example_log.write_example_log(path)
    print(f"wrote an example event log to {path}; replaying it offline:\n")
    return _cmd_replay(argparse.Namespace(db=path, run=None, until=None, format="text",
                                          no_transcript=False))


def _cmd_replay(args: argparse.Namespace) -> int:
    with store.EventStore.open_readonly(args.db) as log:
        if args.run is not None and not log.read(0, run_id=args.run, limit=1, with_data=False):
            print(f"paperclip-supervisor: no run {args.run!r} in {args.db}", file=sys.stderr)
            return EXIT_USAGE
        if args.format == "json":
            out = replay.render_json(log, run_id=args.run, until=args.until)
            sys.stdout.write(msgspec.json.format(msgspec.json.encode(out)).decode() + "\n")
        else:
            for chunk in replay.render_text(log, run_id=args.run, until=args.until,
                                            show_transcript=not args.no_transcript):
                sys.stdout.write(chunk)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except log_errors.EventLogError as exc:
        print(f"paperclip-supervisor: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
