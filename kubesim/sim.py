"""``KubeSim``: one simulated cluster (API server, scheduler, kubelet, controllers) in-process.

Start it in a nursery (``await nursery.start(sim.serve)``, or ``async with
kubesim.running(...)``); it listens on loopback only and stops when cancelled, killing every
container process it started and removing its temporary work directory.

Resource handling: container processes live in their own process groups and are SIGKILLed
when the simulator stops (a simulator killed with SIGKILL leaves them to its caller's
process-group cleanup, as ``kubesim.testing`` does).
"""

from __future__ import annotations

import builtins
import ipaddress
import random
import shutil
import stat
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path
from typing import Any, Literal, TypeVar

import hypercorn.config
import hypercorn.trio
import msgspec
import trio

from kubesim import admission, changes, faults, kubeconfig, meta, resources, timefmt
from kubesim.access import AccessPolicy, AccessRule
from kubesim.api_logs import LogApi
from kubesim.api_objects import ObjectApi, WatchSettings
from kubesim.app import Application
from kubesim.deletion import Deleter
from kubesim.fault_registry import FaultRegistry
from kubesim.garbage_collector import GarbageCollector
from kubesim.isolation import Mode, probe
from kubesim.job_controller import JobController
from kubesim.kubelet import Kubelet, NodeConfig
from kubesim.logs import GroundTruth, OutputLine, TimestampSource
from kubesim.namespaces import Namespaces
from kubesim.persistence import StateDir
from kubesim.recorder import Recorder
from kubesim.scheduler import Scheduler
from kubesim.store import Obj, Store

T = TypeVar("T")

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
NODE_NAME = "kubesim-node"
_RESOURCES_BY_NAME = {resource.name: resource for resource in resources.STORED}


def _write_claude_shim(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "claude"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m kubesim.fake_claude "$@"\n')
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class KubeSim:
    """A simulated Kubernetes cluster with one node.

    Args:
        work_dir: where pods' volumes, logs and runtime files go (default: a temporary
            directory removed when the simulator stops).
        host: the loopback address to listen on.
        port: the port (0: any free port).
        seed: seeds every random choice (names, uids, fault draws, watch timeouts).
        path_prepend: directories put first on every container's PATH.
        claude_shim: put a directory with a ``claude`` that runs ``kubesim.fake_claude`` on
            every container's PATH (after ``path_prepend``).
        extra_env: added to every container's environment (below the pod's own env).
        pvc_dirs: host directory per PersistentVolumeClaim name.
        isolation: ``"namespace"``, ``"pathmap"`` or ``"auto"`` (namespace when it works).
        timestamp_resolution_ns: coarsen log timestamps to this many nanoseconds.
        log_max_bytes: rotate container logs at this size (None: never).
        log_max_files: log files kept per container, the current one included.
        watch_history: changes kept for watches to resume from.
        bookmark_interval: seconds between watch bookmarks when a stream is quiet.
        watch_timeout_seconds: a watch without ``timeoutSeconds`` ends after a random time
            between this and twice this.
        access_rules: rules answering access reviews and guarding requests.
        state_dir: keep objects and output across restarts here (see ``kubesim.persistence``);
            the work directory then defaults to ``state_dir/work`` and is kept.
    """

    def __init__(
        self,
        *,
        work_dir: Path | str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        seed: int = 0,
        path_prepend: Sequence[Path | str] = (),
        claude_shim: bool = True,
        extra_env: Mapping[str, str] | None = None,
        pvc_dirs: Mapping[str, Path | str] | None = None,
        isolation: Literal["auto", "namespace", "pathmap"] = "auto",
        timestamp_resolution_ns: int = 1,
        log_max_bytes: int | None = None,
        log_max_files: int = 5,
        watch_history: int = 4_000,
        bookmark_interval: float = 10.0,
        watch_timeout_seconds: float = 1800.0,
        access_rules: Sequence[AccessRule] = (),
        state_dir: Path | str | None = None,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"kubesim listens on loopback only, not {host!r}")
        if isolation not in ("auto", "namespace", "pathmap"):
            raise ValueError(f"isolation must be auto, namespace or pathmap, not {isolation!r}")
        self.state = StateDir(Path(state_dir)) if state_dir is not None else None
        if work_dir is None and state_dir is not None:
            work_dir = Path(state_dir) / "work"
        self._own_work_dir = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix="kubesim-")).resolve()
        self._host, self._port = host, port
        self._isolation_choice = isolation
        self._path_prepend = [str(Path(p)) for p in path_prepend]
        self._claude_shim = claude_shim
        self._extra_env = dict(extra_env or {})
        self._pvc_dirs = {name: Path(path) for name, path in (pvc_dirs or {}).items()}
        self.url = ""
        rng = random.Random(seed)
        self._names = meta.Names(random.Random(rng.getrandbits(64)))
        self.store = Store(history_limit=watch_history)
        self.recorder = Recorder()
        self.access = AccessPolicy(list(access_rules))
        self.fault_registry = FaultRegistry(random.Random(rng.getrandbits(64)))
        self.ground_truth = GroundTruth()
        self.node = NodeConfig(
            node_name=NODE_NAME,
            work_dir=self.work_dir,
            isolation="pathmap",
            claim_dir=self.pvc_dir,
            timestamps=TimestampSource(timestamp_resolution_ns),
            log_max_bytes=log_max_bytes,
            log_max_files=log_max_files,
            extra_env=self._extra_env,
        )
        self.kubelet = Kubelet(self.store, self.fault_registry, self.ground_truth, self._names,
                               self.node)
        self.deleter = Deleter(self.store, self.kubelet)
        self.scheduler = Scheduler(self.store, self.fault_registry, node_name=NODE_NAME)
        self.job_controller = JobController(self.store, self.deleter, self._names)
        self.garbage_collector = GarbageCollector(self.store, self.deleter)
        self.namespaces = Namespaces(self.store)
        self.object_api = ObjectApi(
            self.store, self.deleter, self._names, random.Random(rng.getrandbits(64)),
            WatchSettings(bookmark_interval, watch_timeout_seconds),
        )
        self.log_api = LogApi(self.store, self.kubelet, self.fault_registry)
        if self.state is not None:
            self.kubelet.static_pods |= self.state.load(self.store, self.ground_truth)
            # Fresh uids after a restart: the same seed would repeat the first run's.
            self._names.reseed(f"{seed}:{self.store.resource_version}")

    def __repr__(self) -> str:
        return f"<KubeSim {self.url or 'not serving'} {self.store!r} {self.kubelet!r}>"

    # -- running -------------------------------------------------------------------------------

    @property
    def address(self) -> str:
        """``host:port`` once serving."""
        return self.url.removeprefix("http://")

    @property
    def isolation(self) -> Mode:
        """How containers get their mounts (decided when serving starts)."""
        return self.node.isolation

    async def serve(self, *, task_status: trio.TaskStatus[str] = trio.TASK_STATUS_IGNORED) -> None:
        """Serve until cancelled; reports the base URL when listening.

        Resource handling: on the way out every container process is killed and a temporary
        work directory is removed.
        """
        try:
            await self._serve(task_status)
        finally:
            if self._own_work_dir:
                with trio.CancelScope(shield=True):
                    await trio.to_thread.run_sync(
                        partial(shutil.rmtree, self.work_dir, ignore_errors=True)
                    )

    async def _serve(self, task_status: trio.TaskStatus[str]) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self._isolation_choice == "auto":
            self.node.isolation = await probe(self.work_dir)
        else:
            self.node.isolation = self._isolation_choice
        shim_dir = self.work_dir / "bin"
        if self._claude_shim:
            _write_claude_shim(shim_dir)
        config = hypercorn.config.Config()
        config.bind = [f"{self._host}:{self._port}"]
        config.loglevel = "WARNING"
        config.graceful_timeout = 0.5
        async with trio.open_nursery() as nursery:
            if self.state is not None:
                await nursery.start(partial(
                    self.state.keep_saved, self.store, self.ground_truth, self.kubelet.static_pods
                ))
            await nursery.start(self.garbage_collector.run)
            await nursery.start(self.job_controller.run)
            await nursery.start(self.scheduler.run)
            await nursery.start(self.kubelet.run)
            app: Any = Application(self)  # an ASGI 3 callable; hypercorn's types are narrower
            binds = await nursery.start(partial(
                hypercorn.trio.serve, app, config, shutdown_trigger=trio.sleep_forever,
            ))
            self.url = str(binds[0])
            port = self.url.rsplit(":", 1)[1]
            path = [*self._path_prepend, *([str(shim_dir)] if self._claude_shim else [])]
            self.node.base_env.update({
                "PATH": ":".join([*path, DEFAULT_PATH]),
                "HOME": "/root",
                "KUBERNETES_SERVICE_HOST": self._host,
                "KUBERNETES_SERVICE_PORT": port,
                **self._extra_env,
            })
            task_status.started(self.url)

    def write_kubeconfig(self, path: Path | str, *, namespace: str = "default") -> Path:
        """Write a kubeconfig for this simulator that kubectl and the Python client load."""
        if not self.url:
            raise RuntimeError("the simulator is not serving yet")
        return kubeconfig.write(Path(path), self.url, namespace=namespace)

    # -- volumes and output --------------------------------------------------------------------

    def pvc_dir(self, claim_name: str) -> Path:
        """The host directory behind a PersistentVolumeClaim name."""
        if claim_name not in self._pvc_dirs:
            self._pvc_dirs[claim_name] = self.work_dir / "pvcs" / claim_name
        return self._pvc_dirs[claim_name]

    def output(self, namespace: str, pod: str, container: str) -> list[OutputLine]:
        """Ground truth: every line the container printed, with its timestamp."""
        return self.ground_truth.lines(namespace, pod, container)

    # -- faults --------------------------------------------------------------------------------

    def inject(self, fault: faults.Fault) -> int | None:
        """Register a standing fault (returns its id) or perform an action (returns None).

        Raises:
            errors.NotFound: an action names a pod or Job that does not exist.
        """
        if isinstance(fault, faults.RotateLogs):
            self.kubelet.rotate(fault.namespace, fault.pod, fault.container)
            return None
        if isinstance(fault, faults.EvictPod):
            self.kubelet.evict(fault.namespace, fault.pod, fault.message)
            return None
        if isinstance(fault, faults.DeleteJob):
            self.deleter.delete(resources.JOBS, fault.namespace, fault.job,
                                propagation=fault.propagation_policy)
            return None
        return self.fault_registry.add(fault)

    def clear_faults(self) -> None:
        """Drop every standing fault."""
        self.fault_registry.clear()

    def evict_pod(self, namespace: str, pod: str,
                  message: str = "The node was low on resource: memory. ") -> None:
        """Evict a pod now (see ``faults.EvictPod``)."""
        self.inject(faults.EvictPod(namespace=namespace, pod=pod, message=message))

    def rotate_logs(self, namespace: str, pod: str, container: str | None = None) -> None:
        """Rotate a pod's container logs now."""
        self.inject(faults.RotateLogs(namespace=namespace, pod=pod, container=container))

    def delete_job(self, namespace: str, job: str, propagation_policy: str = "Background") -> None:
        """Delete a Job behind the client's back (not recorded as a request)."""
        self.inject(faults.DeleteJob(namespace=namespace, job=job,
                                     propagation_policy=propagation_policy))

    # -- objects -------------------------------------------------------------------------------

    def get(self, resource: str, namespace: str, name: str) -> Obj | None:
        """A copy of a stored object (``resource`` is e.g. ``"jobs"`` or ``"pods"``)."""
        return self.store.get(_RESOURCES_BY_NAME[resource], namespace, name)

    def list(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of the stored objects of one resource."""
        return self.store.list(_RESOURCES_BY_NAME[resource], namespace)

    def pods_of_job(self, namespace: str, job: str) -> builtins.list[Obj]:
        """The pods a Job's controller created, oldest first."""
        pods = self.store.select(
            resources.PODS, namespace,
            lambda pod: (pod["metadata"].get("labels") or {}).get("job-name") == job,
        )
        return sorted(pods, key=lambda pod: int(pod["metadata"]["resourceVersion"]))

    async def wait_for(self, check: Callable[[], T | None | bool]) -> T | bool:
        """Wait until ``check()`` returns something truthy; it is re-checked after every
        store change and every line a container prints. Bound it with ``trio.fail_after``.
        """
        while True:
            seen_rv, seen_lines = self.store.resource_version, self.ground_truth.count
            result = check()
            if result:
                return result
            await changes.wait_for_change(
                self.store, self.ground_truth, seen_rv=seen_rv, seen_lines=seen_lines
            )

    def seed_pod(self, manifest: Obj, *, namespace: str = "default") -> Obj:
        """Store a Running pod that nothing runs (e.g. the supervisor's own "self" pod)."""
        pod = msgspec.json.decode(msgspec.json.encode(manifest))
        namespace = pod.get("metadata", {}).get("namespace") or namespace
        taken = {key[2] for key in self.store.names(resources.PODS, namespace)}
        meta.prepare_new(resources.PODS, pod, namespace=namespace, names=self._names, taken=taken)
        admission.admit_pod(pod)
        pod["spec"].setdefault("nodeName", NODE_NAME)
        now = timefmt.now_seconds()
        pod["status"] = {
            "phase": "Running",
            "hostIP": "127.0.0.1",
            "podIP": "10.88.0.1",
            "startTime": now,
            "qosClass": "BestEffort",
            "conditions": [
                {"type": kind, "status": "True", "lastProbeTime": None, "lastTransitionTime": now}
                for kind in ("PodReadyToStartContainers", "Initialized", "Ready",
                             "ContainersReady", "PodScheduled")
            ],
            "containerStatuses": [
                {"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": True,
                 "started": True, "restartCount": 0, "state": {"running": {"startedAt": now}},
                 "lastState": {}}
                for c in pod["spec"]["containers"]
            ],
        }
        self.kubelet.static_pods.add((namespace, pod["metadata"]["name"]))
        return self.store.create(resources.PODS, pod)



@asynccontextmanager
async def running(**options: Any) -> AsyncIterator[KubeSim]:
    """Run a ``KubeSim(**options)`` for the body of an ``async with`` block.

    Resource handling: leaving the block (normally or by an exception) stops the simulator
    and kills every container process it started.
    """
    sim = KubeSim(**options)
    async with trio.open_nursery() as nursery:
        await nursery.start(sim.serve)
        try:
            yield sim
        finally:
            nursery.cancel_scope.cancel(reason="kubesim.running block left")
