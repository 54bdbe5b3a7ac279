"""Start one container process inside a private mount namespace with its own root.

Run as ``python -I -S podroot.py SPEC.json`` by the kubelet (standard library only, so it starts
in a few milliseconds). It needs root; the kubelet probes for that once and otherwise falls
back to path mapping (see ``kubesim.isolation``).

What the process sees:

* ``/`` is a fresh tmpfs. Every top-level host directory appears in it: directories that hold
  other mounts (``/proc``, ``/dev``, ``/sys`` …) are bound through recursively; every other one
  is an overlay whose lower layer is the host directory and whose upper layer is private and
  thrown away with the namespace. The container can read the host's files (the Python venv,
  the fake ``claude`` shim, test scripts) but anything it writes outside its volumes, and any
  mount point that has to be created, never reaches the host.
* Each volume is bind-mounted at its ``mountPath`` (read-only when asked); missing mount
  points are created inside the private layers.

Then it chroots, changes to the working directory and execs the command (searching the
container's ``PATH``). If the exec fails
the reason is written to the spec's ``error_file`` and the exit code is 128, which the kubelet
reports as ``StartError``; on success that file descriptor closes on exec.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

_MS_RDONLY = 0x1
_MS_REMOUNT = 0x20
_MS_BIND = 0x1000
_MS_REC = 0x4000
_MS_PRIVATE = 0x40000
_CLONE_NEWNS = 0x20000
_MNT_DETACH = 0x2

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def _tops_with_submounts() -> set[str]:
    tops = set()
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            mount_point = line.split()[4]
            if mount_point != "/":
                tops.add(mount_point.strip("/").split("/")[0])
    return tops


def _build_root(root: str, scratch: str) -> None:
    tops = _tops_with_submounts()
    _mount("kubesim-root", root, "tmpfs", 0, "mode=755")
    _mount("kubesim-scratch", scratch, "tmpfs", 0, "mode=700")
    for entry in sorted(os.listdir("/")):
        source, target = "/" + entry, os.path.join(root, entry)
        if os.path.islink(source):
            os.symlink(os.readlink(source), target)
        elif os.path.isdir(source):
            os.mkdir(target)
            if entry in tops:
                _mount(source, target, None, _MS_BIND | _MS_REC)
            else:
                upper, work = os.path.join(scratch, entry, "u"), os.path.join(scratch, entry, "w")
                os.makedirs(upper)
                os.makedirs(work)
                _mount("overlay", target, "overlay", 0,
                       f"lowerdir={source},upperdir={upper},workdir={work}")
        elif os.path.isfile(source):
            open(target, "w").close()
            _mount(source, target, None, _MS_BIND)
    _check(_libc.umount2(scratch.encode(), _MNT_DETACH), f"umount {scratch}")


def _ensure_dir(path: str) -> None:
    os.makedirs(path, exist_ok=True)


def _bind_volumes(mounts: list[dict[str, object]], handles: list[int]) -> None:
    for mount, handle in zip(mounts, handles, strict=True):
        target = str(mount["target"])
        if mount.get("is_file"):
            _ensure_dir(os.path.dirname(target))
            if not os.path.exists(target):
                open(target, "w").close()
        else:
            _ensure_dir(target)
        _mount(f"/proc/self/fd/{handle}", target, None, _MS_BIND)
        if mount.get("read_only"):
            _mount(None, target, None, _MS_BIND | _MS_REMOUNT | _MS_RDONLY)
        os.close(handle)


def main() -> None:
    with open(sys.argv[1]) as handle:
        spec = json.load(handle)
    error_fd = os.open(spec["error_file"], os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        # No PR_SET_PDEATHSIG: it fires when the *thread* that forked us exits, and Trio
        # starts processes from worker threads it retires after 10 s idle, which killed
        # every container at 10 s. The simulator kills each container's process group itself.
        _check(_libc.unshare(_CLONE_NEWNS), "unshare")
        _mount(None, "/", None, _MS_REC | _MS_PRIVATE)
        mounts = spec["mounts"]
        handles = [os.open(str(mount["source"]), os.O_PATH) for mount in mounts]
        _build_root(spec["root"], spec["scratch"])
        os.chroot(spec["root"])
        os.chdir("/")
        _bind_volumes(mounts, handles)
        _ensure_dir(spec["workdir"])
        os.chdir(spec["workdir"])
    except OSError as exc:
        os.write(error_fd, f"kubesim: setting up the container failed: {exc}".encode())
        os._exit(128)
    try:
        os.execvpe(spec["executable"], spec["argv"], spec["env"])
    except OSError as exc:
        message = f'exec: "{spec["argv"][0]}": {exc.strerror}'
        os.write(error_fd, message.encode())
        os._exit(128)


if __name__ == "__main__":
    main()
