"""Hypercorn's HTTP/1.1 connection handling, serving the API on the prepared Unix socket.

Why this module exists: Hypercorn speaks HTTP/1.1 and runs under Trio, but its ``serve`` binds
(and blindly unlinks) the socket path itself and accepts every connection. Here Hypercorn's
per-connection server (``hypercorn.trio.tcp_server.TCPServer``, the same one its ``serve`` uses)
is driven by ``trio.serve_listeners`` over our own listener: the socket :mod:`listener`
prepared (probed, bound with the right mode, or inherited from systemd), wrapped by
:class:`~supervisor.api.peercred.PeerCheckingListener` for the SO_PEERCRED check. The app
needs no ASGI lifespan, so none is run.

Resource handling: :meth:`ApiServer.run` is a service (``await nursery.start(server.run)``
returns once it accepts). :meth:`ApiServer.stop` ends the open event streams, stops accepting
and lets requests in flight finish for ``graceful_timeout`` seconds; connections still open
then (a client that stopped reading) are shut down so the daemon always exits. The listening
socket is closed, and a socket file this process created is removed.
"""

from __future__ import annotations

import functools
import logging
import socket

import hypercorn.config
import trio
from hypercorn.trio.tcp_server import TCPServer
from hypercorn.trio.worker_context import WorkerContext
from hypercorn.typing import ConnectionState
from hypercorn.utils import wrap_app

from supervisor import logs
from supervisor.api import listener, peercred
from supervisor.api.app import ApiApp

_log = logging.getLogger(__name__)

DEFAULT_GRACEFUL_TIMEOUT = 2.0
_REFUSED_BACKLOG = 64  # refused connections waiting for their 403; more are closed at once


class ApiServer:
    """The API on one listening socket.

    Args:
        app: the ASGI application.
        sock: the listening socket from :func:`listener.bind` or :func:`listener.adopt`.
        policy: which peers may connect.
        path: the socket file this process bound (removed at stop), or None when inherited.
        graceful_timeout: seconds requests in flight get after :meth:`stop`.
    """

    def __init__(self, app: ApiApp, sock: socket.socket, *, policy: peercred.PeerPolicy,
                 path: str | None, graceful_timeout: float = DEFAULT_GRACEFUL_TIMEOUT) -> None:
        self.app = app
        self.path = path
        self.graceful_timeout = graceful_timeout
        self._inode = listener.inode_of(path) if path is not None else None
        self.listener = peercred.PeerCheckingListener(sock, policy, self._refuse)
        self._stopping = trio.Event()
        self._refused_send, self._refused_receive = trio.open_memory_channel[
            tuple[trio.SocketStream, peercred.PeerCredentials]](_REFUSED_BACKLOG)
        self.refused = 0
        self.severed = 0

    def _refuse(self, stream: trio.SocketStream, peer: peercred.PeerCredentials) -> None:
        self.refused += 1
        _log.warning("api.peer_refused", extra=logs.fields(pid=peer.pid, uid=peer.uid,
                                                           gid=peer.gid))
        try:
            self._refused_send.send_nowait((stream, peer))
        except (trio.WouldBlock, trio.ClosedResourceError):
            stream.socket.close()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        config = hypercorn.config.Config()
        config.graceful_timeout = self.graceful_timeout
        config.accesslog = None
        config.errorlog = logging.getLogger("hypercorn.error")
        context = WorkerContext(None)
        # ApiApp is a plain ASGI 3 callable; Hypercorn's type names its scope TypedDicts.
        app = wrap_app(self.app, config.wsgi_max_body_size, "asgi")  # type: ignore[arg-type]
        connection = functools.partial(TCPServer, app, config, context, ConnectionState({}))
        try:
            async with trio.open_nursery() as outer:
                async with trio.open_nursery() as handlers:
                    async with trio.open_nursery() as accepting:
                        accepting.start_soon(self._answer_refused, handlers)
                        await accepting.start(functools.partial(
                            trio.serve_listeners, connection, [self.listener],
                            handler_nursery=handlers))
                        task_status.started()
                        await self._stopping.wait()
                        accepting.cancel_scope.cancel(reason="api server stopping")
                    # Stop accepting; requests in flight get the grace period, then are cut.
                    await context.terminated.set()
                    handlers.cancel_scope.deadline = trio.current_time() + self.graceful_timeout
                    outer.start_soon(self._sever_when_overdue)
                outer.cancel_scope.cancel(reason="every connection is closed")
        finally:
            self._refused_send.close()
            with trio.CancelScope(shield=True):
                await self.listener.aclose()
            if self.path is not None:
                listener.unlink_if_ours(self.path, self._inode)
        _log.info("api.stopped", extra=logs.fields(severed=self.severed, refused=self.refused))

    def stop(self) -> None:
        """Begin a graceful stop (returns at once; :meth:`run` returns when it is done)."""
        self.app.ctx.streams.close_all("daemon stopping")
        self._stopping.set()

    async def _answer_refused(self, handlers: trio.Nursery) -> None:
        async for stream, peer in self._refused_receive:
            handlers.start_soon(peercred.answer_refused, stream, peer, self.listener.policy)

    async def _sever_when_overdue(self) -> None:
        # Cancellation cannot interrupt Hypercorn's shielded send to a client that stopped
        # reading; shutting the connection down can.
        await trio.sleep(self.graceful_timeout + 0.25)
        self.severed = self.listener.sever_all()
        if self.severed:
            _log.warning("api.connections_severed", extra=logs.fields(count=self.severed))
