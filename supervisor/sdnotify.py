"""The systemd service protocol, without systemd: readiness, watchdog and socket activation.

Why this module exists: under ``Type=notify`` systemd considers the daemon started only when it
sends ``READY=1`` (we send it once recovery is done and the API listens), restarts it when the
``WATCHDOG=1`` pings stop (they come from the Trio loop, so a wedged loop stops them), and may
hand it an already-listening socket (``LISTEN_FDS``, socket activation). All three are plain
environment variables and datagrams, so tests drive them with sockets they own.

Every variable is read once and removed from the environment, so processes the daemon starts do
not inherit them (what ``sd_notify(unset_environment=1)`` does).
"""

from __future__ import annotations

import os
import socket
from collections.abc import MutableMapping

import trio

LISTEN_FDS_START = 3  # SD_LISTEN_FDS_START: inherited sockets begin at this descriptor


class Notifier:
    """Sends state lines to the service manager's notify socket; a no-op when there is none.

    Args:
        address: ``NOTIFY_SOCKET``'s value: a path, or ``@name`` for an abstract socket.
        watchdog_seconds: the watchdog timeout systemd expects pings within (None = off).
    """

    def __init__(self, address: str | None, *, watchdog_seconds: float | None = None) -> None:
        self.address = address
        self.watchdog_seconds = watchdog_seconds
        self.sent: list[str] = []

    @classmethod
    def from_env(cls, env: MutableMapping[str, str] | None = None, *,
                 pid: int | None = None) -> Notifier:
        """Read (and remove) ``NOTIFY_SOCKET``, ``WATCHDOG_USEC`` and ``WATCHDOG_PID``."""
        env = os.environ if env is None else env
        pid = os.getpid() if pid is None else pid
        address = env.pop("NOTIFY_SOCKET", None) or None
        usec = env.pop("WATCHDOG_USEC", None)
        watchdog_pid = env.pop("WATCHDOG_PID", None)
        seconds: float | None = None
        if usec and usec.isdigit() and int(usec) > 0:
            # WATCHDOG_PID names the process the pings are expected from; absent = us.
            if watchdog_pid is None or watchdog_pid == str(pid):
                seconds = int(usec) / 1_000_000
        return cls(address, watchdog_seconds=seconds)

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, *lines: str) -> bool:
        """Send ``KEY=value`` lines in one datagram; returns whether it was sent.

        A manager that went away must not take the daemon down with it, so send errors are
        reported by the return value only.
        """
        if self.address is None:
            return False
        target = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        payload = "\n".join(lines).encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            try:
                sock.sendto(payload, target)
            except OSError:
                return False
        self.sent.append("\n".join(lines))
        return True

    def ready(self, status: str = "") -> bool:
        lines = ["READY=1"] + ([f"STATUS={status}"] if status else [])
        return self.notify(*lines)

    def stopping(self, status: str = "") -> bool:
        lines = ["STOPPING=1"] + ([f"STATUS={status}"] if status else [])
        return self.notify(*lines)

    async def watchdog(self) -> None:
        """Ping ``WATCHDOG=1`` at half the timeout until cancelled; returns at once if off."""
        if self.watchdog_seconds is None or self.address is None:
            return
        while True:
            self.notify("WATCHDOG=1")
            await trio.sleep(self.watchdog_seconds / 2)


def inherited_sockets(env: MutableMapping[str, str] | None = None, *,
                      pid: int | None = None) -> list[int]:
    """The descriptors systemd passed (``LISTEN_FDS``), if they are meant for this process.

    Reads and removes ``LISTEN_PID``, ``LISTEN_FDS`` and ``LISTEN_FDNAMES``. Returns ``[]`` when
    there are none or they were meant for another process (``LISTEN_PID`` differs).

    Raises:
        ValueError: ``LISTEN_FDS`` or ``LISTEN_PID`` is not a number.
    """
    env = os.environ if env is None else env
    pid = os.getpid() if pid is None else pid
    listen_pid = env.pop("LISTEN_PID", None)
    count = env.pop("LISTEN_FDS", None)
    env.pop("LISTEN_FDNAMES", None)
    if listen_pid is None or count is None:
        return []
    if not listen_pid.isdigit() or not count.isdigit():
        raise ValueError(f"LISTEN_PID={listen_pid!r} / LISTEN_FDS={count!r}: expected numbers")
    if int(listen_pid) != pid:
        return []
    fds = list(range(LISTEN_FDS_START, LISTEN_FDS_START + int(count)))
    for fd in fds:
        os.set_inheritable(fd, False)
    return fds
