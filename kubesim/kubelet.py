"""The kubelet: runs every pod bound to the node, one ``PodWorker`` per pod.

It starts a worker when a bound pod appears, forwards deletion and eviction to it, and answers
the log API's question "which log file is this container's". The pod's work directory
(volumes, logs, per-container runtime files) is removed when the pod object is.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import trio

from kubesim import errors, pod_status, resources
from kubesim.fault_registry import FaultRegistry
from kubesim.isolation import Mode
from kubesim.logs import ContainerLog, GroundTruth, TimestampSource
from kubesim.meta import Names
from kubesim.pod_worker import PodWorker
from kubesim.store import Change, Obj, Store


@dataclass
class NodeConfig:
    """What every pod on the node shares."""

    node_name: str
    work_dir: Path
    isolation: Mode
    claim_dir: Callable[[str], Path]
    base_env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    timestamps: TimestampSource = field(default_factory=TimestampSource)
    log_max_bytes: int | None = None
    log_max_files: int = 5


class Kubelet:
    """Runs the pods bound to one node."""

    def __init__(
        self,
        store: Store,
        registry: FaultRegistry,
        ground_truth: GroundTruth,
        names: Names,
        config: NodeConfig,
    ) -> None:
        self.store = store
        self.registry = registry
        self.ground_truth = ground_truth
        self.names = names
        self.config = config
        self._workers: dict[tuple[str, str], PodWorker] = {}
        self._nursery: trio.Nursery | None = None
        self._next_ip = 2
        # Seeded pods (the supervisor's own "self" pod) are objects only: nothing runs them.
        self.static_pods: set[tuple[str, str]] = set()

    def __repr__(self) -> str:
        return f"<Kubelet node={self.config.node_name} pods={len(self._workers)}>"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Run pods until cancelled; cancelling kills every container process."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self.store.add_listener(self._on_change)
            for pod in self.store.list(resources.PODS):
                self._consider(pod)
            task_status.started()
            await trio.sleep_forever()

    def pod_ip(self) -> str:
        """A fresh pod IP."""
        address = f"10.88.{self._next_ip // 250}.{self._next_ip % 250 + 2}"
        self._next_ip += 1
        return address

    def pod_dir(self, pod: Obj) -> Path:
        """The host directory of one pod's volumes, logs and runtime files."""
        meta = pod["metadata"]
        return self.config.work_dir / "pods" / f"{meta['namespace']}_{meta['name']}_{meta['uid']}"

    def _on_change(self, change: Change) -> None:
        if change.resource is not resources.PODS:
            return
        key = (change.namespace, change.name)
        worker = self._workers.get(key)
        if change.type == "DELETED":
            if worker is not None:
                worker.removed()
            return
        pod = change.object()
        if worker is not None and worker.uid != pod["metadata"]["uid"]:
            return
        if worker is None:
            self._consider(pod)

    def _consider(self, pod: Obj) -> None:
        meta = pod["metadata"]
        key = (meta["namespace"], meta["name"])
        if (
            self._nursery is None
            or key in self._workers
            or pod["spec"].get("nodeName") != self.config.node_name
            or pod_status.is_terminal(pod)
            or key in self.static_pods
        ):
            return
        worker = PodWorker(self, pod)
        self._workers[key] = worker
        self._nursery.start_soon(self._run_worker, key, worker)

    async def _run_worker(self, key: tuple[str, str], worker: PodWorker) -> None:
        try:
            await worker.run()
        finally:
            if self._workers.get(key) is worker:
                del self._workers[key]
            with trio.CancelScope(shield=True):
                await trio.to_thread.run_sync(
                    partial(shutil.rmtree, worker.pod_dir, ignore_errors=True)
                )

    # -- what the API and the faults ask of the node -------------------------------------------

    def request_delete(self, namespace: str, name: str, grace_seconds: float) -> bool:
        """Start a graceful delete; False when no worker runs this pod (remove it at once)."""
        worker = self._workers.get((namespace, name))
        if worker is None:
            return False
        worker.request_delete(grace_seconds)
        return True

    def evict(self, namespace: str, name: str, message: str) -> None:
        """Evict a pod: kill its containers and leave it Failed with reason Evicted.

        Raises:
            errors.NotFound: no such pod is running here.
        """
        worker = self._workers.get((namespace, name))
        if worker is None:
            raise errors.NotFound("pods", "", name)
        worker.evict(message)

    def rotate(self, namespace: str, name: str, container: str | None) -> int:
        """Rotate the current log of a pod's containers; returns how many were rotated.

        Raises:
            errors.NotFound: no such pod is running here.
        """
        worker = self._workers.get((namespace, name))
        if worker is None:
            raise errors.NotFound("pods", "", name)
        rotated = 0
        for log in worker.current_logs():
            if container is None or log.directory.name == container:
                log.rotate()
                rotated += 1
        return rotated

    def container_log(
        self, namespace: str, name: str, container: str, *, previous: bool
    ) -> ContainerLog | None:
        """The log of a container's current (or previous) instance, if it has one."""
        worker = self._workers.get((namespace, name))
        if worker is None:
            return None
        return worker.log(container, previous=previous)
