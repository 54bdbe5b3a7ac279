"""One container process: spawn it in its own process group, pump its output into the log,
report how it ended, and make sure nothing it started outlives it.

stdout and stderr are read concurrently and cut into lines as they arrive; each line is
stamped when its newline is read (see ``kubesim.logs``). When the main process exits, any
process left in its group is killed, as a container runtime tears down the container's
processes. If the runner is cancelled (the simulator stops), the group is killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
from dataclasses import dataclass

import trio

from kubesim.isolation import Launch
from kubesim.logs import STDERR, STDOUT, ContainerLog

_STRAGGLER_DRAIN_SECONDS = 2.0


@dataclass(frozen=True)
class Exit:
    """How a container process ended."""

    exit_code: int
    signal: int | None = None
    start_error: str | None = None


def exit_code_of(returncode: int) -> tuple[int, int | None]:
    """The container exit code (128+N for a signal) and the signal, if any."""
    if returncode < 0:
        return 128 - returncode, -returncode
    return returncode, None


async def _pump(
    stream: trio.abc.ReceiveStream, name: str, log: ContainerLog, done: trio.Event
) -> None:
    try:
        await _pump_lines(stream, name, log)
    finally:
        done.set()


async def _pump_lines(stream: trio.abc.ReceiveStream, name: str, log: ContainerLog) -> None:
    pending = b""
    while True:
        data = await stream.receive_some(65536)
        if not data:
            break
        lines = (pending + data).split(b"\n")
        pending = lines.pop()
        for line in lines:
            log.append(name, line, newline=True)
    if pending:
        log.append(name, pending, newline=False)


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class ContainerProcess:
    """Runs one container instance; ``signal`` reaches its whole process group."""

    def __init__(self, launch: Launch, log: ContainerLog) -> None:
        self._launch = launch
        self._log = log
        self._pid: int | None = None
        self.exited = trio.Event()

    def __repr__(self) -> str:
        return f"<ContainerProcess pid={self._pid} exited={self.exited.is_set()}>"

    @property
    def pid(self) -> int | None:
        """The process id once started."""
        return self._pid

    def signal(self, sig: int) -> None:
        """Send ``sig`` to the container's process group (no-op once it has exited)."""
        if self._pid is not None and not self.exited.is_set():
            _kill_group(self._pid, sig)

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> Exit:
        """Start the process, report started, pump output until it ends, and return its exit.

        Error handling: a launch that fails (no such executable) is returned as a start error
        with exit code 128, the way a runtime reports ``StartError``.
        """
        launch = self._launch
        try:
            process = await trio.lowlevel.open_process(
                launch.argv,
                executable=launch.executable,
                env=launch.env,
                cwd=launch.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            task_status.started()
            self.exited.set()
            self._log.close()
            return Exit(128, start_error=f'exec: "{launch.argv[0]}": {exc.strerror}')
        self._pid = process.pid
        task_status.started()
        try:
            assert process.stdout is not None and process.stderr is not None
            drained = (trio.Event(), trio.Event())
            async with trio.open_nursery() as nursery:
                nursery.start_soon(_pump, process.stdout, STDOUT, self._log, drained[0])
                nursery.start_soon(_pump, process.stderr, STDERR, self._log, drained[1])
                returncode = await process.wait()
                self.exited.set()
                # Whatever the main process left behind dies with the container; their pipe
                # ends close with them, so the pumps reach end of file.
                _kill_group(process.pid, signal.SIGKILL)
                with trio.move_on_after(_STRAGGLER_DRAIN_SECONDS):
                    for event in drained:
                        await event.wait()
                nursery.cancel_scope.cancel(reason="container exited; output drained")
        finally:
            if process.returncode is None:
                with trio.CancelScope(shield=True):
                    _kill_group(process.pid, signal.SIGKILL)
                    await process.wait()
            self.exited.set()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    with trio.CancelScope(shield=True):
                        await stream.aclose()
            if not self._log.closed:
                self._log.close()
        code, sig = exit_code_of(returncode)
        return Exit(code, sig, self._read_start_error())

    def _read_start_error(self) -> str | None:
        error_file = self._launch.error_file
        if error_file is None or not error_file.exists():
            return None
        text = error_file.read_text(errors="replace").strip()
        return text or None
