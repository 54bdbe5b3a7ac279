"""The API's listening socket: bound safely on a path, or inherited from systemd.

Why this module exists: a socket file left by a daemon that died must be replaced, but a live
daemon's must never be stolen — so an existing path is probed with a connect first, and only a
refused connect (nobody listening) makes it stale. The file is bound under a tight umask and
then given its configured mode, so it is never briefly wider than asked. Under socket
activation systemd owns the path and hands over the listening descriptor instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

BACKLOG = 128
PROBE_TIMEOUT = 1.0


class ListenError(Exception):
    """The API socket cannot be set up; the message says why and what to do."""


def probe(path: str, *, timeout: float = PROBE_TIMEOUT) -> bool:
    """True when something accepts connections on the Unix socket at ``path``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except (ConnectionRefusedError, FileNotFoundError):
            return False
        except TimeoutError:
            return True  # a backlog so full it cannot answer is still somebody's live socket
        except OSError as exc:
            if exc.errno in (errno.ECONNREFUSED, errno.ENOENT):
                return False
            raise ListenError(f"cannot probe {path}: {exc.strerror}") from exc
    return True


def bind(path: str, *, mode: int) -> socket.socket:
    """Bind and listen on ``path`` with file mode ``mode``.

    Raises:
        ListenError: a live daemon listens there, or the path is not a socket, or the
            directory is missing or not writable.
    """
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        existing = None
    if existing is not None:
        if not stat.S_ISSOCK(existing.st_mode):
            raise ListenError(f"{path} exists and is not a socket; refusing to replace it")
        if probe(path):
            raise ListenError(
                f"another daemon is listening on {path}; stop it first or choose another "
                "--socket")
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)  # stale: left by a daemon that is gone
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise ListenError(f"cannot create the socket {path}: directory {directory} does not exist")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(path)
    except OSError as exc:
        sock.close()
        raise ListenError(f"cannot bind {path}: {exc.strerror}") from exc
    finally:
        os.umask(old_umask)
    os.chmod(path, mode)
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def adopt(fd: int) -> socket.socket:
    """Take over a listening Unix stream socket passed by the service manager.

    Raises:
        ListenError: the descriptor is not a listening Unix stream socket.
    """
    try:
        sock = socket.socket(fileno=fd)
    except OSError as exc:
        raise ListenError(f"inherited descriptor {fd} is not a socket: {exc.strerror}") from exc
    if sock.family != socket.AF_UNIX or sock.type != socket.SOCK_STREAM:
        sock.detach()
        raise ListenError(f"inherited descriptor {fd} is not a Unix stream socket")
    if not sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
        sock.detach()
        raise ListenError(f"inherited descriptor {fd} is not listening (ListenStream= expected)")
    sock.setblocking(False)
    return sock


def inode_of(path: str) -> int | None:
    """The socket file's inode (to recognise our own file at shutdown), or None."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def unlink_if_ours(path: str, inode: int | None) -> None:
    """Remove the socket file at shutdown, unless another daemon has replaced it meanwhile."""
    if inode is not None and inode_of(path) == inode:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
