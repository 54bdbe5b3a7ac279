"""``serve``: read the config file, apply command-line overrides, run the daemon.

Every option has the same key in the TOML config file (``--db`` ⇄ ``db_path``, ``--socket`` ⇄
``socket_path``, ``--keepalive-interval`` ⇄ ``keepalive_interval_sec`` …); a flag given on the
command line wins over the file, which wins over the built-in default.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

import msgspec
import trio

from events import errors as log_errors
from supervisor import config, daemon, labels, logs
from supervisor.cli import common

# option dest → DaemonConfig field
_OVERRIDES = {
    "db": "db_path",
    "socket": "socket_path",
    "socket_mode": "socket_mode",
    "kubeconfig": "kubeconfig",
    "namespace": "namespace",
    "log_source": "log_source",
    "keepalive_interval": "keepalive_interval_sec",
    "log_format": "log_format",
}


def _octal_mode(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an octal file mode such as 0660, got {text!r}"
                                         ) from None
    if not 0 <= value <= 0o777:
        raise argparse.ArgumentTypeError(f"expected a file mode between 0000 and 0777, got {text}")
    return value


def _namespace(text: str) -> str:
    if not labels.is_dns_label(text):
        raise argparse.ArgumentTypeError(
            f"expected a namespace name (lowercase DNS-1123 label), got {text!r}")
    return text


def register(sub: argparse._SubParsersAction[common.Parser]) -> None:
    sp = sub.add_parser("serve", help="run the daemon (API on a Unix socket)")
    sp.add_argument("--config", help="TOML config file (same keys as these options)")
    sp.add_argument("--db", help=f"event log path (db_path; default {config.DEFAULT_DB_PATH})")
    sp.add_argument("--socket",
                    help=f"API socket path (socket_path; default {config.DEFAULT_SOCKET_PATH})")
    sp.add_argument("--socket-mode", type=_octal_mode, help="socket file mode (default 0660)")
    cluster = sp.add_mutually_exclusive_group()
    cluster.add_argument("--kubeconfig", help="kubeconfig file (default: in-cluster)")
    cluster.add_argument("--in-cluster", action="store_true",
                         help="use the pod's service account even if the config names a kubeconfig")
    sp.add_argument("--namespace", type=_namespace, help="namespace for Jobs")
    sp.add_argument("--log-source", choices=config.LOG_SOURCES,
                    help="follow pod output through the pod-log API or the shared-volume file")
    sp.add_argument("--keepalive-interval", type=common.positive_float, metavar="SECONDS",
                    help="seconds between keepalive ticks of a quiet run (default 15)")
    sp.add_argument("--log-format", choices=config.LOG_FORMATS,
                    help="daemon log format on stderr (default json)")
    # Test-only: replaces the run lifecycle with module:function (tests drive the API with a
    # scripted run; never use it in production).
    sp.add_argument("--run-body", help=argparse.SUPPRESS)
    sp.set_defaults(handler=cmd_serve)


def settings_from(args: argparse.Namespace) -> config.DaemonConfig:
    """The config file (if any) with the command line's overrides applied and checked.

    Raises:
        config.ConfigError: naming the key and the bad value.
    """
    settings = config.load_config(args.config) if args.config else config.DaemonConfig()
    overrides: dict[str, Any] = {
        field: getattr(args, dest) for dest, field in _OVERRIDES.items()
        if getattr(args, dest) is not None
    }
    if args.in_cluster:
        overrides["kubeconfig"] = None
    settings = msgspec.structs.replace(settings, **overrides)
    if settings.log_source == "file" and settings.shared_volume_host_dir is None:
        raise config.ConfigError(
            "shared_volume_host_dir",
            "log source 'file' needs shared_volume_host_dir (set it in the config file)")
    if settings.max_prompt_bytes > settings.max_request_bytes:
        raise config.ConfigError("max_prompt_bytes", "max_prompt_bytes exceeds max_request_bytes")
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        settings = settings_from(args)
    except config.ConfigError as exc:
        return common.fail(exc.message, common.EXIT_USAGE)
    logs.configure(settings.log_format)
    try:
        run_body = daemon.load_run_body(args.run_body) if args.run_body else None
        # A scripted test run body needs no cluster; the real lifecycle always has one.
        factory = None if run_body is not None else daemon.open_kube_client
        trio.run(functools.partial(daemon.serve, settings, run_body=run_body,
                                   kube_client_factory=factory, handle_signals=True))
    except (daemon.DaemonError, log_errors.EventLogError) as exc:
        return common.fail(str(exc), common.EXIT_USAGE)
    return common.EXIT_OK
