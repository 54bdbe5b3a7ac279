"""How a container process gets its volumes at the mount paths its manifest names.

The decision, in order of preference:

1. **Mount namespace** (``namespace``, the default whenever it works: root and a kernel that
   allows ``unshare(CLONE_NEWNS)``, tmpfs and overlayfs). Each container starts through
   ``kubesim/podroot.py``, which gives it a private root: a tmpfs holding every top-level host
   directory as an overlay with a private, discarded upper layer (directories that hold other
   mounts, such as ``/proc`` and ``/dev``, are bound through instead), then binds each volume at
   its ``mountPath`` and chroots. So ``/paperclip`` and ``/tmp/prompt`` exist for the container
   without ever being created on the host, the container still sees host files (the venv, the
   ``claude`` shim, scripts a test wrote), and nothing it writes outside a volume leaks out.
2. **Path mapping** (``pathmap``, the fallback when the probe fails, e.g. not root). The
   process runs on the host directly; every occurrence of a mount path in the command, the
   arguments, the env values and the working directory is rewritten to the volume's host
   directory (whole path components only, longest mount path first). This is a textual
   approximation: a path the container builds at run time from pieces is not rewritten.

``probe`` decides once per simulator by starting ``true`` through the helper.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import trio

Mode = Literal["namespace", "pathmap"]
HELPER = Path(__file__).with_name("podroot.py")


@dataclass(frozen=True)
class VolumeMount:
    """A host directory (or file) to appear at ``target`` inside the container."""

    source: Path
    target: str
    read_only: bool = False
    is_file: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """What to run, as the container should see it."""

    executable: str
    argv: list[str]
    env: dict[str, str]
    workdir: str
    mounts: list[VolumeMount]


@dataclass(frozen=True)
class Launch:
    """What to hand to the process spawner on the host."""

    executable: str
    argv: list[str]
    env: dict[str, str]
    cwd: str
    error_file: Path | None = None


def _helper_launch(spec: ContainerSpec, container_dir: Path) -> Launch:
    container_dir.mkdir(parents=True, exist_ok=True)
    root, scratch = container_dir / "root", container_dir / "scratch"
    root.mkdir(exist_ok=True)
    scratch.mkdir(exist_ok=True)
    error_file = container_dir / "start-error"
    error_file.unlink(missing_ok=True)
    spec_file = container_dir / "spec.json"
    spec_file.write_text(json.dumps({
        "root": str(root),
        "scratch": str(scratch),
        "error_file": str(error_file),
        "mounts": [
            {"source": str(mount.source), "target": mount.target,
             "read_only": mount.read_only, "is_file": mount.is_file}
            for mount in spec.mounts
        ],
        "workdir": spec.workdir,
        "executable": spec.executable,
        "argv": spec.argv,
        "env": spec.env,
    }))
    argv = [sys.executable, "-I", "-S", str(HELPER), str(spec_file)]
    return Launch(sys.executable, argv, {}, str(container_dir), error_file)


def path_mapper(mounts: list[VolumeMount]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """A pattern and table that rewrite mount paths (whole components) to host paths."""
    table = {mount.target.rstrip("/") or "/": str(mount.source) for mount in mounts}
    if not table:
        return None
    alternatives = "|".join(re.escape(target) for target in sorted(table, key=len, reverse=True))
    pattern = re.compile(rf"(?<![\w.\-/])({alternatives})(?=/|$|[^\w.\-])")
    return pattern, table


def _map_paths(spec: ContainerSpec) -> Launch:
    mapper = path_mapper(spec.mounts)

    def rewrite(text: str) -> str:
        if mapper is None:
            return text
        pattern, table = mapper
        return pattern.sub(lambda match: table[match.group(1)], text)

    workdir = rewrite(spec.workdir)
    if not Path(workdir).is_dir():
        workdir = "/"
    return Launch(
        spec.executable if "/" not in spec.executable else rewrite(spec.executable),
        [rewrite(arg) for arg in spec.argv],
        {name: rewrite(value) for name, value in spec.env.items()},
        workdir,
    )


def prepare(spec: ContainerSpec, mode: Mode, container_dir: Path) -> Launch:
    """Turn a container spec into a host launch for the chosen isolation mode."""
    if mode == "namespace":
        return _helper_launch(spec, container_dir)
    return _map_paths(spec)


async def probe(work_dir: Path) -> Mode:
    """Find out whether containers can get their own mount namespace here."""
    spec = ContainerSpec("true", ["true"], {"PATH": "/usr/bin:/bin"}, "/", [])
    launch = _helper_launch(spec, work_dir / "isolation-probe")
    try:
        result = await trio.run_process(
            launch.argv, cwd=launch.cwd, env=launch.env, check=False,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    except OSError:
        return "pathmap"
    return "namespace" if result.returncode == 0 else "pathmap"
