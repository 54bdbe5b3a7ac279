"""``python -m kubesim serve``: run the simulator as its own process.

It prints its base URL as the first line on stdout (then flushes), writes a kubeconfig if
asked, and runs until SIGTERM/SIGINT, or, with ``--parent-pid PID`` / ``--exit-with-parent``,
until that process (or the one that started it) is gone, so a crashed test run leaves nothing
behind.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec
import trio

from kubesim.access import AccessRule
from kubesim.sim import KubeSim


def _pairs(values: Sequence[str], option: str) -> dict[str, str]:
    result = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key:
            raise SystemExit(f"kubesim: {option} expects NAME=VALUE, got {value!r}")
        result[key] = rest
    return result


def _deny_rules(values: Sequence[str]) -> list[AccessRule]:
    rules = []
    for value in values:
        verb, sep, resource = value.partition(":")
        if not sep:
            raise SystemExit(f"kubesim: --deny expects VERB:RESOURCE (e.g. delete:jobs), got {value!r}")
        rules.append(AccessRule(allowed=False, verb=verb or "*", resource=resource or "*"))
    return rules


def parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    root = argparse.ArgumentParser(prog="python -m kubesim", description=__doc__)
    commands = root.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the simulator until stopped")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=0, help="port (default: any free port)")
    serve.add_argument("--kubeconfig-out", type=Path, help="write a kubeconfig here")
    serve.add_argument("--namespace", default="default", help="kubeconfig's namespace")
    serve.add_argument("--work-dir", type=Path, help="pods' files (default: a temp dir)")
    serve.add_argument("--state-dir", type=Path,
                       help="keep objects and output across restarts in this directory")
    serve.add_argument("--seed", type=int, default=0)
    serve.add_argument("--path-prepend", action="append", default=[], metavar="DIR",
                       help="put DIR first on containers' PATH (repeatable)")
    serve.add_argument("--no-claude-shim", action="store_true",
                       help="do not put the fake claude on containers' PATH")
    serve.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                       help="extra container environment (repeatable)")
    serve.add_argument("--pvc", action="append", default=[], metavar="CLAIM=DIR",
                       help="host directory of a PersistentVolumeClaim (repeatable)")
    serve.add_argument("--isolation", choices=("auto", "namespace", "pathmap"), default="auto")
    serve.add_argument("--timestamp-resolution-ns", type=int, default=1)
    serve.add_argument("--log-max-bytes", type=int)
    serve.add_argument("--log-max-files", type=int, default=5)
    serve.add_argument("--watch-history", type=int, default=4000)
    serve.add_argument("--bookmark-interval", type=float, default=10.0)
    serve.add_argument("--deny", action="append", default=[], metavar="VERB:RESOURCE",
                       help="deny a verb on a resource (repeatable; * for any)")
    serve.add_argument("--self-pod", type=Path, metavar="FILE.json",
                       help="seed a Running pod object from this manifest")
    serve.add_argument("--exit-with-parent", action="store_true",
                       help="stop when the parent process exits")
    serve.add_argument("--parent-pid", type=int, metavar="PID",
                       help="stop when process PID exits (what the test launchers pass)")
    return root


def build(args: argparse.Namespace) -> KubeSim:
    """A simulator configured from parsed arguments."""
    return KubeSim(
        host=args.host,
        port=args.port,
        work_dir=args.work_dir,
        seed=args.seed,
        path_prepend=args.path_prepend,
        claude_shim=not args.no_claude_shim,
        extra_env=_pairs(args.env, "--env"),
        pvc_dirs=_pairs(args.pvc, "--pvc"),
        isolation=args.isolation,
        timestamp_resolution_ns=args.timestamp_resolution_ns,
        log_max_bytes=args.log_max_bytes,
        log_max_files=args.log_max_files,
        watch_history=args.watch_history,
        bookmark_interval=args.bookmark_interval,
        access_rules=_deny_rules(args.deny),
        state_dir=args.state_dir,
    )


async def _watch_parent(parent: int, cancel: trio.CancelScope) -> None:
    # A pidfd becomes readable when the process exits (reaped or not).
    try:
        handle = os.pidfd_open(parent)
    except ProcessLookupError:
        cancel.cancel(reason=f"process {parent} is already gone")
        return
    try:
        await trio.lowlevel.wait_readable(handle)
    finally:
        os.close(handle)
    cancel.cancel(reason=f"process {parent} exited")


async def _watch_signals(cancel: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for _ in signals:
            cancel.cancel(reason="signal")
            return


async def run(args: argparse.Namespace) -> None:
    """Serve until a signal (or the parent's exit)."""
    sim = build(args)
    if args.self_pod:
        sim.seed_pod(msgspec.json.decode(args.self_pod.read_bytes()), namespace=args.namespace)
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_watch_signals, nursery.cancel_scope)
        if args.parent_pid:
            nursery.start_soon(_watch_parent, args.parent_pid, nursery.cancel_scope)
        url = await nursery.start(sim.serve)
        if args.kubeconfig_out:
            sim.write_kubeconfig(args.kubeconfig_out, namespace=args.namespace)
        print(url, flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m kubesim``."""
    args = parser().parse_args(argv)
    if args.exit_with_parent and not args.parent_pid:
        args.parent_pid = os.getppid()
    try:
        trio.run(run, args)
    except ValueError as exc:
        print(f"kubesim: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
