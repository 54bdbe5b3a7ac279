"""Who is on the other end of the socket (SO_PEERCRED), checked as each connection is accepted.

Why this module exists: file permissions (mode 0660) are the first gate; when the operator lists
allowed uids/gids, the kernel's record of the connecting process is the second. Hypercorn does
not hand the connection's socket to the application, so the check happens one level down, at
``accept``: :class:`PeerCheckingListener` accepts the connections, and one from a refused peer
never reaches the HTTP server at all. It is handed to :func:`answer_refused`, which tells
the client why (403 with the usual error body) and closes it.

The same hook remembers every accepted connection so the server can cut connections whose
clients stopped reading when the daemon must stop (see :meth:`PeerCheckingListener.sever_all`).
"""

from __future__ import annotations

import os
import socket
import struct
import weakref
from collections.abc import Callable
from typing import NamedTuple

import trio

from supervisor.api import errors, schemas

_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}
# A refused client gets this long to send its request line before we answer and close.
REFUSAL_READ_TIMEOUT = 2.0
_MAX_REFUSAL_READ = 64 * 1024


class PeerCredentials(NamedTuple):
    pid: int
    uid: int
    gid: int


def peer_credentials(sock: socket.socket | trio.socket.SocketType) -> PeerCredentials:
    """The pid, uid and gid the kernel recorded for the process that connected."""
    raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size)
    return PeerCredentials(*_UCRED.unpack(raw))


class PeerPolicy(NamedTuple):
    """Which peers may talk to the API.

    Args:
        allowed_uids: uids allowed besides ``own_uid``.
        allowed_gids: primary gids allowed.
        own_uid: the daemon's own uid, always allowed (None: not even that — for tests).
    """

    allowed_uids: frozenset[int] = frozenset()
    allowed_gids: frozenset[int] = frozenset()
    own_uid: int | None = os.getuid()

    @property
    def enforced(self) -> bool:
        """Checking is on only when an allowed list is configured."""
        return bool(self.allowed_uids or self.allowed_gids)

    def allows(self, peer: PeerCredentials) -> bool:
        if not self.enforced:
            return True
        return (peer.uid == self.own_uid or peer.uid in self.allowed_uids
                or peer.gid in self.allowed_gids)

    def refusal(self, peer: PeerCredentials) -> str:
        """The message a refused peer gets (it names what it was refused for)."""
        return (f"peer uid {peer.uid} / gid {peer.gid} is not allowed on this socket "
                "(see allowed_uids and allowed_gids in the daemon's config)")


RefusedHandler = Callable[[trio.SocketStream, PeerCredentials], None]


class PeerCheckingListener(trio.abc.Listener[trio.SocketStream]):
    """Accepts connections on a listening Unix socket, turning away peers the policy refuses.

    Refused connections never reach the HTTP server: they go to ``on_refused`` (which answers
    them with a 403) or are closed. The listener also remembers the connections it handed out,
    so :meth:`sever_all` can cut those whose clients stopped reading when the daemon must stop.
    """

    def __init__(self, sock: socket.socket, policy: PeerPolicy,
                 on_refused: RefusedHandler | None = None) -> None:
        self._inner = trio.SocketListener(trio.socket.from_stdlib_socket(sock))
        self.policy = policy
        self.on_refused = on_refused
        self._handed_out: weakref.WeakSet[trio.SocketStream] = weakref.WeakSet()

    @property
    def socket(self) -> trio.socket.SocketType:
        return self._inner.socket

    async def accept(self) -> trio.SocketStream:
        while True:
            stream = await self._inner.accept()
            try:
                peer = peer_credentials(stream.socket)
            except OSError:
                await stream.aclose()
                continue
            if self.policy.allows(peer):
                self._handed_out.add(stream)
                return stream
            if self.on_refused is not None:
                self.on_refused(stream, peer)
            else:
                await stream.aclose()

    async def aclose(self) -> None:
        await self._inner.aclose()

    def sever_all(self) -> int:
        """Shut down every handed-out connection still open; returns how many were cut.

        A client that stopped reading leaves the server blocked in a send it will not cancel;
        shutting the connection down wakes that send with an error.
        """
        cut = 0
        for stream in list(self._handed_out):
            if stream.socket.fileno() == -1:
                continue
            try:
                stream.socket.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue
            cut += 1
        return cut


async def answer_refused(stream: trio.SocketStream, peer: PeerCredentials,
                         policy: PeerPolicy) -> None:
    """Tell a refused client why, as an HTTP 403 with the API's error body, then close.

    Reads the request head first (bounded in size and time) so the client is not writing into
    a closed socket when the answer comes.
    """
    body = schemas.error_body(errors.PEER_NOT_ALLOWED, policy.refusal(peer))
    head = (f"HTTP/1.1 403 Forbidden\r\ncontent-type: {schemas.JSON}\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n").encode()
    async with stream:
        received = b""
        with trio.move_on_after(REFUSAL_READ_TIMEOUT):
            while b"\r\n\r\n" not in received and len(received) < _MAX_REFUSAL_READ:
                try:
                    chunk = await stream.receive_some(16384)
                except trio.BrokenResourceError:
                    return
                if not chunk:
                    break
                received += chunk
        try:
            await stream.send_all(head + body)
            await stream.send_eof()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            return
