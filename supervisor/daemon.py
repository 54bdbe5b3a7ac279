"""``paperclip-supervisor serve``: the daemon's one nursery, its start order and its stop order.

Start: take the event log's exclusive lock (a second daemon on the same database is refused
here), prepare the API socket (inherited from systemd, or bound after probing for a live
daemon), open the Kubernetes client, start the supervisor — which folds the log and runs the
recovery pass — and only then serve the API and tell systemd ``READY=1``. Watchdog pings run
from the same Trio loop.

Stop (SIGTERM, SIGINT or :meth:`Daemon.request_stop`): tell systemd ``STOPPING=1``, end the
event streams and stop accepting, let requests in flight finish, then record
``supervisor.stopped`` and stop following runs. No Job is ever deleted on the way out.

Resource handling: :func:`serve` is a service; ``await nursery.start(serve, settings)``
returns a :class:`Daemon` once the API answers. Everything it opened is closed when it returns.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import trio

from events import store
from supervisor import __version__, config, logs, sdnotify
from supervisor.api import listener, peercred, schemas
from supervisor.api.app import ApiApp
from supervisor.api.context import ApiContext, ClusterProbe
from supervisor.api.server import ApiServer
from supervisor.engine.cluster import Cluster
from supervisor.engine.follow import FollowSettings
from supervisor.engine.recovery import recover
from supervisor.engine.supervisor import RecoveryPass, RunBody, Supervisor
from supervisor.k8s import access, api, session
from supervisor.k8s import errors as k8s_errors
from supervisor.selfpod import SelfPod, SelfPodError, read_self_pod, self_pod_location

_log = logging.getLogger(__name__)

KubeClientFactory = Callable[[config.DaemonConfig], AbstractAsyncContextManager[httpx.AsyncClient]]
"""Opens the client the engine talks to the Kubernetes API with (in-cluster, kubeconfig, kubesim)."""

DEFAULT_RUN_BODY = "supervisor.engine.run:drive_run"
CLUSTER_PROBE_TIMEOUT = 3.0


class DaemonError(Exception):
    """The daemon cannot start; the message says why."""


class Daemon:
    """A running daemon, as :func:`serve` reports it started."""

    def __init__(self, supervisor: Supervisor, server: ApiServer, *, socket_path: str | None,
                 notifier: sdnotify.Notifier) -> None:
        self.supervisor = supervisor
        self.server = server
        self.socket_path = socket_path
        self.notifier = notifier
        self.stop_reason: str | None = None
        self.stopped = trio.Event()
        self._stop = trio.Event()

    def request_stop(self, reason: str) -> None:
        """Begin a clean stop (returns at once; :func:`serve` returns when it is done)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        self._stop.set()

    async def wait_stop_requested(self) -> str:
        await self._stop.wait()
        assert self.stop_reason is not None
        return self.stop_reason


def load_run_body(spec: str) -> RunBody:
    """The run lifecycle coroutine named ``module:function``.

    Raises:
        DaemonError: the module or function does not exist.
    """
    module_name, _, function_name = spec.partition(":")
    if not module_name or not function_name:
        raise DaemonError(f"run body {spec!r}: expected 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise DaemonError(f"run body {spec!r}: cannot import {module_name}: {exc}") from exc
    body = getattr(module, function_name, None)
    if body is None or not callable(body):
        raise DaemonError(f"run body {spec!r}: {module_name} has no function {function_name}")
    run_body: RunBody = body
    return run_body


def _cluster_probe(client: httpx.AsyncClient) -> ClusterProbe:
    async def probe() -> schemas.ComponentHealth:
        with trio.move_on_after(CLUSTER_PROBE_TIMEOUT) as scope:
            try:
                response = await client.get("/version")
            except httpx.HTTPError as exc:
                return schemas.ComponentHealth(ok=False, detail=f"cluster unreachable: {exc}")
        if scope.cancelled_caught:
            return schemas.ComponentHealth(
                ok=False, detail=f"cluster did not answer within {CLUSTER_PROBE_TIMEOUT:g}s")
        if response.status_code != 200:
            return schemas.ComponentHealth(
                ok=False, detail=f"cluster answered /version with HTTP {response.status_code}")
        return schemas.ComponentHealth(ok=True, detail=str(client.base_url))
    return probe


def _rbac_probe(cluster: Cluster) -> ClusterProbe:
    async def probe() -> schemas.ComponentHealth:
        namespace = cluster.default_namespace
        with trio.move_on_after(CLUSTER_PROBE_TIMEOUT):
            try:
                missing = await access.denied(cluster.kube, namespace)
            except k8s_errors.APIError as exc:
                return schemas.ComponentHealth(ok=False, detail=f"access review failed: {exc}")
            if missing:
                return schemas.ComponentHealth(
                    ok=False, detail=f"missing in namespace {namespace}: {', '.join(missing)}")
            return schemas.ComponentHealth(ok=True, detail=f"all permissions in {namespace}")
        return schemas.ComponentHealth(ok=False, detail="access reviews timed out")
    return probe


@contextlib.asynccontextmanager
async def open_kube_client(settings: config.DaemonConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The cluster named by ``settings.kubeconfig``, or the in-cluster service account."""
    try:
        cfg = session.load_configuration(settings.kubeconfig)
    except session.ConfigError as exc:
        raise DaemonError(str(exc)) from exc
    client = session.build_client(cfg, in_cluster=settings.kubeconfig is None)
    try:
        yield client
    finally:
        await client.aclose()


async def _load_self_pod(kube: api.KubeAPI, settings: config.DaemonConfig) -> SelfPod | None:
    """In the cluster, the supervisor's own pod (image, volumes, env references to inherit)."""
    if settings.kubeconfig is not None:
        return None
    try:
        name, namespace = self_pod_location(os.environ)
        return read_self_pod(await kube.get_pod(namespace, name))
    except (SelfPodError, k8s_errors.APIError) as exc:
        _log.warning("daemon.self_pod_unavailable", extra=logs.fields(error=str(exc)))
        return None


@contextlib.asynccontextmanager
async def _no_cluster(settings: config.DaemonConfig) -> AsyncIterator[None]:
    yield None


def _prepare_socket(settings: config.DaemonConfig,
                    inherited: list[int]) -> tuple[socket.socket, str | None]:
    try:
        if inherited:
            return listener.adopt(inherited[0]), None
        return listener.bind(settings.socket_path, mode=settings.socket_mode), \
            settings.socket_path
    except listener.ListenError as exc:
        raise DaemonError(str(exc)) from exc


async def serve(settings: config.DaemonConfig, *, run_body: RunBody | None = None,
                kube_client_factory: KubeClientFactory | None = None,
                recovery: RecoveryPass | None = None,
                peer_policy: peercred.PeerPolicy | None = None,
                notifier: sdnotify.Notifier | None = None,
                inherited_fds: list[int] | None = None,
                handle_signals: bool = False,
                graceful_timeout: float = 2.0,
                follow_settings: FollowSettings | None = None,
                task_status: trio.TaskStatus[Daemon] = trio.TASK_STATUS_IGNORED) -> None:
    """Run the daemon until it is asked to stop.

    Args:
        settings: the daemon's configuration.
        run_body: the run lifecycle; default ``supervisor.engine.run.drive_run``.
        kube_client_factory: opens the Kubernetes API client; None = no cluster (health says so).
        recovery: the restart recovery pass handed to the supervisor.
        peer_policy: who may connect; default from ``allowed_uids``/``allowed_gids``.
        notifier: systemd notifications; default from ``NOTIFY_SOCKET``/``WATCHDOG_USEC``.
        inherited_fds: listening sockets passed in; default from ``LISTEN_FDS``.
        handle_signals: stop cleanly on SIGTERM/SIGINT (the command line sets this).
        graceful_timeout: seconds requests in flight get when stopping.

    Raises:
        DaemonError: the socket cannot be prepared or the run body cannot be loaded.
        events.LogLocked: another daemon uses this event log.
        events.EventLogError: the event log cannot be opened.
    """
    notifier = notifier if notifier is not None else sdnotify.Notifier.from_env()
    inherited = inherited_fds if inherited_fds is not None else sdnotify.inherited_sockets()
    body = run_body if run_body is not None else load_run_body(DEFAULT_RUN_BODY)
    policy = peer_policy if peer_policy is not None else peercred.PeerPolicy(
        allowed_uids=frozenset(settings.allowed_uids), allowed_gids=frozenset(settings.allowed_gids))
    log = await trio.to_thread.run_sync(store.EventStore.open, settings.db_path)
    try:
        sock, bound_path = _prepare_socket(settings, inherited)
    except BaseException:
        log.close()
        raise
    inode = listener.inode_of(bound_path) if bound_path is not None else None
    try:
        factory: Any = kube_client_factory or _no_cluster
        async with factory(settings) as kube:
            cluster = None
            if kube is not None:
                kube_api = api.KubeAPI(kube)
                cluster = Cluster(kube_api, settings,
                                  self_pod=await _load_self_pod(kube_api, settings),
                                  follow=follow_settings)
                if recovery is None:
                    recovery = recover
            sup = Supervisor(log, run_body=body, recovery=recovery)
            sup.cluster = cluster
            ctx = ApiContext(sup, db_path=settings.db_path,
                             max_request_bytes=settings.max_request_bytes,
                             max_prompt_bytes=settings.max_prompt_bytes,
                             cluster_probe=_cluster_probe(kube) if kube is not None else None,
                             rbac_probe=_rbac_probe(cluster) if cluster is not None else None)
            server = ApiServer(ApiApp(ctx), sock, policy=policy, path=bound_path,
                               graceful_timeout=graceful_timeout)
            try:
                shown = bound_path or f"{sock.getsockname() or 'an unnamed socket'} (inherited)"
                await _run(sup, server, notifier=notifier, socket_path=shown,
                           handle_signals=handle_signals, task_status=task_status)
            finally:
                ctx.reader.close()
    finally:
        # The server closes the socket itself; this covers a failure before it started.
        sock.close()
        if bound_path is not None:
            listener.unlink_if_ours(bound_path, inode)
        log.close()


async def _run(sup: Supervisor, server: ApiServer, *, notifier: sdnotify.Notifier,
               socket_path: str, handle_signals: bool,
               task_status: trio.TaskStatus[Daemon]) -> None:
    server_done = trio.Event()

    async def run_server(*, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED
                         ) -> None:
        try:
            await server.run(task_status=task_status)
        finally:
            server_done.set()

    async with trio.open_nursery() as nursery:
        if sup.cluster is not None:
            await nursery.start(sup.cluster.run)
        await nursery.start(sup.run)
        await nursery.start(run_server)
        daemon = Daemon(sup, server, socket_path=server.path, notifier=notifier)
        if handle_signals:
            nursery.start_soon(_stop_on_signals, daemon)
        notifier.ready(status=f"serving on {socket_path}")
        nursery.start_soon(notifier.watchdog)
        _log.info("daemon.started", extra=logs.fields(
            socket=socket_path, db=sup.log.path, pid=os.getpid(), version=__version__,
            recovery=sup.recovery_summary, last_seq=sup.state.last_seq))
        task_status.started(daemon)

        reason = await daemon.wait_stop_requested()
        _log.info("daemon.stopping", extra=logs.fields(reason=reason))
        notifier.stopping(status=f"stopping: {reason}")
        server.stop()
        await server_done.wait()
        await sup.shutdown(reason)
        nursery.cancel_scope.cancel(reason=f"daemon stopped: {reason}")
    _log.info("daemon.stopped", extra=logs.fields(reason=reason))
    daemon.stopped.set()


async def _stop_on_signals(daemon: Daemon) -> None:
    with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
        async for signum in signals:
            name = signal.Signals(signum).name
            if daemon.stop_reason is not None:
                _log.warning("daemon.signal_while_stopping", extra=logs.fields(signal=name))
            daemon.request_stop(name)
