"""The ``paperclip-supervisor`` command line: argument parsing and output only.

Offline tools (``replay``, ``demo``) read an event log directly; ``serve`` runs the daemon;
everything else talks to a running daemon over its Unix socket through
:mod:`supervisor.api.client`. Exit codes are listed in :mod:`supervisor.cli.common`: 0 ok,
1 failed, 2 bad input, 3 daemon unreachable, 4 no such run, 5 conflict, 130 interrupted.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

from events import errors as log_errors
from supervisor.api import errors as api_errors
from supervisor.api.client import DaemonUnreachable
from supervisor.cli import common, daemon_ops, offline, runs, serve

_STATUS_EXIT = {404: common.EXIT_NOT_FOUND, 409: common.EXIT_CONFLICT}


def build_parser() -> argparse.ArgumentParser:
    parser = common.Parser(prog=common.PROG,
                           description="Run Paperclip's Claude Code agent runs as Kubernetes Jobs.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=common.Parser)
    offline.register(sub)
    serve.register(sub)
    runs.register(sub)
    daemon_ops.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except log_errors.EventLogError as exc:
        return common.fail(str(exc), common.EXIT_USAGE)
    except DaemonUnreachable as exc:
        return common.fail(str(exc), common.EXIT_UNREACHABLE)
    except api_errors.ApiError as exc:
        field = f" [{exc.field}]" if exc.field else ""
        code = _STATUS_EXIT.get(exc.status, common.EXIT_USAGE if exc.status < 500
                                else common.EXIT_FAILED)
        return common.fail(f"{exc.code}: {exc.message}{field}", code)
    except KeyboardInterrupt:
        return common.EXIT_INTERRUPTED
    except BrokenPipeError:
        return common.EXIT_OK
