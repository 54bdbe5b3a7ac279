"""Optional state across simulator restarts (``KubeSim(state_dir=...)``, ``--state-dir``).

Kept: every object with the resourceVersion counter (``state.json``, replaced atomically), the
seeded pods, and the ground truth (``output/<namespace>/<pod>/<container>.jsonl``, appended).
Written at most every ``FLUSH_SECONDS`` after a change and once more when the simulator stops.

Not kept: running containers. A pod that was not finished when the simulator stopped comes back
``Failed``, its containers ``terminated`` with reason ``ContainerStatusUnknown`` (exit 137), as
pods of a lost node do, so its Job controller fails or retries it. Log files of earlier runs are
not served again, and watches cannot resume from versions before the restart (410 Expired).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import msgspec
import trio

from kubesim import changes, pod_status, resources, timefmt
from kubesim.logs import GroundTruth, OutputLine
from kubesim.store import Obj, Store

FLUSH_SECONDS = 0.2
STATE_FILE = "state.json"
_BY_NAME = {resource.name: resource for resource in resources.STORED}


class _Snapshot(msgspec.Struct):
    resource_version: int
    objects: list[tuple[str, dict[str, Any]]]
    static_pods: list[tuple[str, str]] = []


class _Line(msgspec.Struct, array_like=True):
    ts_ns: int
    stream: str
    data: bytes
    newline: bool
    restart: int


def _lost(pod: Obj) -> None:
    """Mark a pod whose containers were lost with the simulator as Failed."""
    status = pod.setdefault("status", {})
    now = timefmt.now_seconds()
    for entry in [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]:
        if "terminated" in entry.get("state", {}):
            continue
        entry["state"] = {"terminated": {
            "exitCode": 137, "reason": "ContainerStatusUnknown",
            "message": "The container could not be located when the pod was terminated",
            "startedAt": None, "finishedAt": now,
        }}
        entry["ready"] = False
        entry["started"] = False
    status["phase"] = "Failed"
    for kind in ("Ready", "ContainersReady"):
        pod_status.set_condition(status, kind, False, reason="PodCompleted")


class StateDir:
    """Loads and saves one simulator's state."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._flushed: dict[tuple[str, str, str], int] = {}

    def __repr__(self) -> str:
        return f"<StateDir {self.directory}>"

    def load(self, store: Store, ground_truth: GroundTruth) -> set[tuple[str, str]]:
        """Restore objects and output; returns the seeded (static) pods."""
        self.directory.mkdir(parents=True, exist_ok=True)
        state_file = self.directory / STATE_FILE
        static: set[tuple[str, str]] = set()
        if state_file.exists():
            snapshot = msgspec.json.decode(state_file.read_bytes(), type=_Snapshot)
            static = {(namespace, name) for namespace, name in snapshot.static_pods}
            objects = []
            for name, obj in snapshot.objects:
                pod_key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
                if name == resources.PODS.name and pod_key not in static and not (
                    pod_status.is_terminal(obj)
                ):
                    _lost(obj)
                objects.append((_BY_NAME[name], obj))
            store.restore(objects, snapshot.resource_version)
        output = self.directory / "output"
        for path in sorted(output.glob("*/*/*.jsonl")):
            key = (path.parent.parent.name, path.parent.name, path.stem)
            record = ground_truth.recorder(*key)
            lines = [msgspec.json.decode(raw, type=_Line) for raw in path.read_bytes().splitlines()]
            for line in lines:
                record(OutputLine(line.ts_ns, line.stream, line.data, line.newline, line.restart))
            self._flushed[key] = len(lines)
        return static

    def save(self, store: Store, ground_truth: GroundTruth, static: set[tuple[str, str]]) -> None:
        """Write the current state (objects atomically, new output lines appended)."""
        snapshot = _Snapshot(
            store.resource_version,
            [(resource.name, obj) for resource in resources.STORED
             for obj in store.list(resource)],
            sorted(static),
        )
        temporary = self.directory / (STATE_FILE + ".tmp")
        temporary.write_bytes(msgspec.json.encode(snapshot))
        os.replace(temporary, self.directory / STATE_FILE)
        for key in ground_truth.containers():
            lines = ground_truth.lines(*key)
            done = self._flushed.get(key, 0)
            if len(lines) == done:
                continue
            path = self.directory / "output" / key[0] / key[1] / f"{key[2]}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("ab") as handle:
                for line in lines[done:]:
                    handle.write(msgspec.json.encode(_Line(
                        line.ts_ns, line.stream, line.data, line.newline, line.restart
                    )) + b"\n")
            self._flushed[key] = len(lines)

    async def keep_saved(
        self, store: Store, ground_truth: GroundTruth, static: set[tuple[str, str]],
        *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """Save after changes (batched) until cancelled, then save once more."""
        task_status.started()
        try:
            while True:
                await changes.wait_for_change(
                    store, ground_truth, seen_rv=store.resource_version,
                    seen_lines=ground_truth.count,
                )
                await trio.sleep(FLUSH_SECONDS)  # batch the changes of a burst into one write
                self.save(store, ground_truth, static)
        finally:
            self.save(store, ground_truth, static)  # synchronous: cancellation cannot cut it
