"""``events``, ``prune`` and ``health``: the whole daemon, through its socket."""

from __future__ import annotations

import argparse
import sys

from supervisor.api import schemas
from supervisor.api.client import SupervisorClient
from supervisor.cli import common


def register(sub: argparse._SubParsersAction[common.Parser]) -> None:
    ev = sub.add_parser("events", help="print every event as NDJSON (like docker events)")
    common.add_socket_option(ev)
    ev.add_argument("--after", type=common.non_negative_int, default=0, metavar="SEQ",
                    help="start after this seq")
    ev.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    ev.add_argument("--kinds", help="only these kinds (comma-separated, e.g. run.finished)")
    ev.set_defaults(handler=cmd_events)

    pr = sub.add_parser("prune", help="remove whole finished runs past a retention period")
    common.add_socket_option(pr)
    pr.add_argument("--finished-before", type=common.duration, required=True, metavar="DURATION",
                    help="remove runs that ended longer ago than this (90s, 30m, 12h, 7d, 2w)")
    pr.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    pr.set_defaults(handler=cmd_prune)

    hc = sub.add_parser("health", help="ask the daemon whether it is healthy (exit 0 = healthy)")
    common.add_socket_option(hc)
    hc.add_argument("--alive", action="store_true",
                    help="exit 0 whenever the daemon answers, healthy or not (liveness probes: "
                         "a cluster outage must not restart the daemon)")
    hc.set_defaults(handler=cmd_health)


def cmd_events(args: argparse.Namespace) -> int:
    kinds = tuple(k for k in (args.kinds or "").split(",") if k) or None
    with SupervisorClient(args.socket) as client:
        for event in client.events(None, after=args.after, follow=args.follow, kinds=kinds):
            sys.stdout.write(schemas.encoder.encode(event).decode() + "\n")
            sys.stdout.flush()
    return common.EXIT_OK


def cmd_prune(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket) as client:
        outcome = client.prune(args.finished_before, dry_run=args.dry_run)
    verb = "would remove" if outcome["dryRun"] else "removed"
    print(f"{verb} {len(outcome['runIds'])} run(s), {outcome['eventsRemoved']} event(s), "
          f"finished before {outcome['finishedBefore']}")
    for run_id in outcome["runIds"]:
        print(f"  {run_id}")
    return common.EXIT_OK


def cmd_health(args: argparse.Namespace) -> int:
    with SupervisorClient(args.socket, timeout=10.0) as client:
        body = client.health()
    common.print_json(body)
    return common.EXIT_OK if body["ok"] or args.alive else common.EXIT_FAILED
