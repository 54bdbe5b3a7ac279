"""``runs start|list|show|logs|result|cancel``: one run at a time, through the daemon's socket.

``runs logs`` prints a run's output exactly as the pod printed it (raw stream-json) by default,
or through the human formatter with ``--pretty``. With ``-f`` it follows the run until it ends —
reconnecting with the last seq it saw if the daemon restarts meanwhile — and exits 0 only when
the run succeeded. Progress (pod scheduling, keepalives, reconnects) goes to stderr, and only
when stderr is a terminal unless ``--progress`` says otherwise.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Callable
from typing import Any

from supervisor.api.client import SupervisorClient
from supervisor.cli import common


def register(sub: argparse._SubParsersAction[common.Parser]) -> None:
    runs = sub.add_parser("runs", help="start, inspect, follow and cancel runs")
    rsub = runs.add_subparsers(dest="runs_command", required=True, parser_class=common.Parser)

    st = rsub.add_parser("start", help="start a run (the prompt comes from a file or stdin)")
    common.add_socket_option(st)
    st.add_argument("--agent", required=True, help="agent id")
    st.add_argument("--run-id", help="run id (default: a new UUID)")
    st.add_argument("--agent-name")
    st.add_argument("--company-id")
    st.add_argument("--task-key")
    st.add_argument("--session-id", help="resume this Claude session")
    st.add_argument("--prompt-file", default="-", help="file holding the prompt; - = stdin")
    st.add_argument("--model")
    st.add_argument("--effort")
    st.add_argument("--max-turns", type=common.non_negative_int)
    st.add_argument("--timeout-sec", type=common.non_negative_int)
    st.add_argument("--grace-sec", type=common.non_negative_int)
    st.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="plain environment variable for the run (repeatable)")
    st.add_argument("--secret-env", action="append", default=[], metavar="NAME=SECRET:KEY",
                    help="environment variable from a key of a Secret (repeatable)")
    st.add_argument("-f", "--follow", action="store_true",
                    help="follow the run's output until it ends, then print its result")
    st.add_argument("--pretty", action="store_true", help="with -f: human-readable output")
    _progress_options(st)
    st.set_defaults(handler=cmd_start)

    ls = rsub.add_parser("list", help="list runs")
    common.add_socket_option(ls)
    ls.add_argument("--agent", help="only this agent's runs")
    ls.add_argument("--active", action="store_true", help="only runs that have not ended")
    ls.add_argument("--phase", help="only runs in these phases (comma-separated)")
    ls.add_argument("--json", action="store_true", help="print the API's JSON")
    ls.set_defaults(handler=cmd_list)

    for name, helptext, handler in (("show", "show a run's state", cmd_show),
                                    ("result", "show a finished run's result", cmd_result)):
        sp = rsub.add_parser(name, help=helptext)
        common.add_socket_option(sp)
        sp.add_argument("run_id", metavar="ID")
        sp.set_defaults(handler=handler)

    lg = rsub.add_parser("logs", help="print a run's output (raw stream-json by default)")
    common.add_socket_option(lg)
    lg.add_argument("run_id", metavar="ID")
    lg.add_argument("-f", "--follow", action="store_true", help="follow until the run ends")
    lg.add_argument("--pretty", action="store_true", help="human-readable output")
    lg.add_argument("--after", type=common.non_negative_int, default=0, metavar="SEQ",
                    help="start after this event seq")
    _progress_options(lg)
    lg.set_defaults(handler=cmd_logs)

    cn = rsub.add_parser("cancel", help="cancel a run (idempotent)")
    common.add_socket_option(cn)
    cn.add_argument("run_id", metavar="ID")
    cn.add_argument("--reason", default="", help="recorded with the cancel")
    cn.set_defaults(handler=cmd_cancel)


def _progress_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="progress lines on stderr (default: when stderr is a terminal)")


def _progress(args: argparse.Namespace) -> Callable[[str], None] | None:
    enabled = args.progress if args.progress is not None else sys.stderr.isatty()
    if not enabled:
        return None

    def show(message: str) -> None:
        print(f"[{args.run_id}] {message}", file=sys.stderr, flush=True)
    return show


def _pair(text: str, option: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise ValueError(f"{option} {text!r}: expected NAME=VALUE")
    return name, value


def _request_body(args: argparse.Namespace, prompt: str) -> dict[str, Any]:
    agent: dict[str, Any] = {"id": args.agent}
    if args.agent_name:
        agent["name"] = args.agent_name
    if args.company_id:
        agent["companyId"] = args.company_id
    body: dict[str, Any] = {"runId": args.run_id, "agent": agent, "prompt": prompt}
    for key, value in (("taskKey", args.task_key), ("sessionId", args.session_id),
                       ("timeoutSec", args.timeout_sec), ("graceSec", args.grace_sec)):
        if value is not None:
            body[key] = value
    claude = {key: value for key, value in (("model", args.model), ("effort", args.effort),
                                            ("maxTurns", args.max_turns)) if value is not None}
    if claude:
        body["claude"] = claude
    if args.env:
        body["env"] = dict(_pair(item, "--env") for item in args.env)
    if args.secret_env:
        secret_env = {}
        for item in args.secret_env:
            name, ref = _pair(item, "--secret-env")
            secret, sep, key = ref.partition(":")
            if not sep or not secret or not key:
                raise ValueError(f"--secret-env {item!r}: expected NAME=SECRET:KEY")
            secret_env[name] = {"secret": secret, "key": key}
        body["secretEnv"] = secret_env
    return body


def _read_prompt(path: str) -> str:
    if path == "-":
        if sys.stdin.isatty():
            print("reading the prompt from stdin (end with Ctrl-D)…", file=sys.stderr)
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def cmd_start(args: argparse.Namespace) -> int:
    args.run_id = args.run_id or str(uuid.uuid4())
    try:
        prompt = _read_prompt(args.prompt_file)
        body = _request_body(args, prompt)
    except OSError as exc:
        return common.fail(f"cannot read the prompt: {exc}", common.EXIT_USAGE)
    except ValueError as exc:
        return common.fail(str(exc), common.EXIT_USAGE)
    with SupervisorClient(args.socket) as client:
        run, created = client.start_run(body)
        verb = "started" if created else "already exists:"
        print(f"run {run['runId']} {verb} (phase {run['phase']})", file=sys.stderr)
        if not args.follow:
            print(run["runId"])
            return common.EXIT_OK
        args.after = 0
        code = _print_logs(client, args, follow=True)
        common.print_json(client.result(args.run_id))
        return code


def cmd_list(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        runs = client.list_runs(agent=args.agent, active=True if args.active else None,
                                phase=args.phase)
    if args.json:
        common.print_json({"runs": runs})
        return common.EXIT_OK
    rows = [("RUN", "AGENT", "PHASE", "CREATED", "JOB", "ERROR")]
    rows += [(r["runId"], r["agentId"], r["phase"], r["createdAt"] or "-",
              r["jobName"] or "-", r["errorCode"] or "-") for r in runs]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
              .rstrip())
    return common.EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        common.print_json(client.get_run(args.run_id))
    return common.EXIT_OK


def cmd_result(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        result = client.result(args.run_id)
    common.print_json(result)
    return common.EXIT_OK if result["phase"] == "succeeded" else common.EXIT_FAILED


def cmd_cancel(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        run = client.cancel(args.run_id, args.reason)
    print(f"cancel recorded for run {run['runId']} (phase {run['phase']})")
    return common.EXIT_OK


def cmd_logs(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        client.get_run(args.run_id)  # a clear 404 before any streaming
        return _print_logs(client, args, follow=args.follow)


def _print_logs(client: SupervisorClient, args: argparse.Namespace, *, follow: bool) -> int:
    progress = _progress(args)
    write = _pretty_writer() if args.pretty else _raw_writer()
    if follow:
        events = client.follow_events(args.run_id, after=args.after, on_wait=progress)
    else:
        events = client.events(args.run_id, after=args.after, kinds=("log.chunk", "log.gap"))
    phase = None
    for event in events:
        kind = event["kind"]
        if kind == "log.chunk":
            write(event["text"])
        elif kind == "log.gap":
            print(f"[gap in the output: {event.get('reason', '')}]", file=sys.stderr, flush=True)
        elif kind == "run.finished":
            phase = event["phase"]
        if progress is not None and kind != "log.chunk":
            progress(_describe(event))
    if not follow:
        return common.EXIT_OK
    return common.EXIT_OK if phase == "succeeded" else common.EXIT_FAILED


def _describe(event: dict[str, Any]) -> str:
    kind = event["kind"]
    if kind == "keepalive.ticked":
        return f"still running (quiet for {event.get('silentFor', 0):.0f}s)"
    if kind == "pod.pending":
        return f"pod pending: {event.get('detail') or event.get('reason') or ''}".rstrip(": ")
    if kind == "run.finished":
        error = f" ({event['errorCode']})" if event.get("errorCode") else ""
        return f"finished: {event['phase']}{error}"
    return str(kind)


def _raw_writer() -> Callable[[str], None]:
    def write(text: str) -> None:
        sys.stdout.write(text)
        sys.stdout.flush()
    return write


def _pretty_writer() -> Callable[[str], None]:
    from supervisor import pretty  # lazy: only --pretty needs the formatter

    color = sys.stdout.isatty()

    def write(text: str) -> None:
        for line in text.splitlines():
            shown = pretty.format_line(line, color=color)
            if shown is not None:
                print(shown, flush=True)
    return write
