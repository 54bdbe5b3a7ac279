"""One pod's life on the node: volumes, init containers in order, main containers together,
restarts by policy, and termination.

Status is owned here and published to the store after every change, shaped like the
kubelet's: Pending (init containers ``PodInitializing``) → Running → Succeeded/Failed, with
waiting/running/terminated container states, ``lastState`` and ``restartCount`` on restarts,
and the pod conditions kubectl prints.

Termination, whatever asks for it (a delete, an eviction, the object vanishing): no new
container starts, SIGTERM goes to every container's process group, SIGKILL follows once the
grace period (Trio clock) is over. A deleted pod's object is removed once its containers have
stopped; an evicted pod stays, Failed with reason ``Evicted``.

``sh`` / ``/bin/sh`` commands run under ``/bin/bash`` (invoked as ``sh``, so in POSIX mode):
Debian's ``/bin/sh`` is dash, which has no ``set -o pipefail``, and the supervisor's container
command starts with it.
"""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import trio

from kubesim import faults, isolation, pod_status, podenv, resources, timefmt, volumes
from kubesim.logs import ContainerLog
from kubesim.process import ContainerProcess, Exit
from kubesim.store import Obj, clone

if TYPE_CHECKING:
    from kubesim.kubelet import Kubelet

CRASH_BACKOFF_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 300.0
ERR_IMAGE_PULL_SECONDS = 1.0
CONFIG_RETRY_SECONDS = 1.0
_SHELLS = ("sh", "/bin/sh")
_LOOKUP_KINDS = {"secrets": resources.SECRETS, "configmaps": resources.CONFIGMAPS}


class PodWorker:
    """Runs one pod until it is gone."""

    def __init__(self, kubelet: Kubelet, pod: Obj) -> None:
        self.kubelet = kubelet
        self.pod = pod
        meta = pod["metadata"]
        self.namespace: str = meta["namespace"]
        self.name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.spec: Obj = pod["spec"]
        self.pod_dir = kubelet.pod_dir(pod)
        self.status: Obj = clone(pod.get("status") or {})
        self._grace = float(self.spec.get("terminationGracePeriodSeconds", 30))
        self._stop = trio.Event()
        self._stopping = False
        self._gone_or_deleting = trio.Event()
        self._removed = False
        self._evicted = False
        self._processes: dict[str, ContainerProcess] = {}
        self._logs: dict[str, list[ContainerLog]] = {}

    def __repr__(self) -> str:
        return (
            f"<PodWorker {self.namespace}/{self.name} phase={self.status.get('phase')} "
            f"stopping={self._stopping} processes={len(self._processes)}>"
        )

    # -- requests from outside -----------------------------------------------------------------

    def request_delete(self, grace_seconds: float) -> None:
        """Terminate gracefully, then remove the pod object."""
        self._grace = min(self._grace, max(grace_seconds, 0.0))
        self._gone_or_deleting.set()
        self._stop.set()

    def removed(self) -> None:
        """The pod object is gone already: kill everything at once."""
        self._removed = True
        self._grace = 0.0
        self._gone_or_deleting.set()
        self._stop.set()

    def evict(self, message: str) -> None:
        """Kill the containers and leave the pod Failed with reason Evicted."""
        self._evicted = True
        self.status["reason"] = "Evicted"
        self.status["message"] = message
        pod_status.set_condition(
            self.status, "DisruptionTarget", True, reason="TerminationByKubelet",
            message=message,
        )
        self._publish()
        self._stop.set()

    def log(self, container: str, *, previous: bool) -> ContainerLog | None:
        """The log of the current (or previous) instance of ``container``."""
        instances = self._logs.get(container, [])
        index = -2 if previous else -1
        return instances[index] if len(instances) >= -index else None

    def current_logs(self) -> list[ContainerLog]:
        """The current log of every container that has started."""
        return [instances[-1] for instances in self._logs.values() if instances]

    # -- the life of the pod -------------------------------------------------------------------

    async def run(self) -> None:
        """Run the pod to completion, then wait until it is deleted and remove it."""
        self._start_status()
        self._publish()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(self._terminator)
            await self._run_pod()
            nursery.cancel_scope.cancel(reason="pod finished")
        self._finish_status()
        self._publish()
        await self._gone_or_deleting.wait()
        if not self._removed:
            pod = self.kubelet.store.get(resources.PODS, self.namespace, self.name)
            if pod is not None and pod["metadata"]["uid"] == self.uid:
                self.kubelet.store.remove(resources.PODS, self.namespace, self.name)
        for instances in self._logs.values():
            for log in instances:
                log.remove_files()

    async def _terminator(self) -> None:
        await self._stop.wait()
        self._stopping = True
        first = signal.SIGTERM if self._grace > 0 else signal.SIGKILL
        for process in list(self._processes.values()):
            process.signal(first)
        with trio.move_on_after(self._grace):
            for process in list(self._processes.values()):
                await process.exited.wait()
        for process in list(self._processes.values()):
            process.signal(signal.SIGKILL)

    async def _pause(self, seconds: float) -> bool:
        """Sleep unless the pod is being stopped; True when it is."""
        with trio.move_on_after(seconds):
            await self._stop.wait()
        return self._stop.is_set()

    async def _run_pod(self) -> None:
        volume_dirs = await self._prepare_volumes()
        if volume_dirs is None:
            return
        for container in self.spec.get("initContainers") or []:
            if await self._run_container(container, volume_dirs, init=True) != "succeeded":
                return
        pod_status.set_condition(self.status, "Initialized", True)
        async with trio.open_nursery() as nursery:
            for container in self.spec["containers"]:
                nursery.start_soon(self._run_container, container, volume_dirs, False)

    async def _prepare_volumes(self) -> dict[str, Path] | None:
        while True:
            try:
                return volumes.prepare(
                    self.pod, self.pod_dir, lookup=self._lookup,
                    claim_dir=self.kubelet.config.claim_dir,
                )
            except volumes.VolumeError as exc:
                for entry in self._entries():
                    pod_status.waiting(entry, "ContainerCreating", str(exc))
                self._publish()
                if await self._pause(CONFIG_RETRY_SECONDS):
                    return None

    def _lookup(self, kind: str, name: str) -> Obj | None:
        return self.kubelet.store.get(_LOOKUP_KINDS[kind], self.namespace, name)

    async def _run_container(self, container: Obj, volume_dirs: dict[str, Path],
                             init: bool) -> str:
        name = container["name"]
        entry = self._entry(name)
        policy = self.spec.get("restartPolicy", "Always")
        if init and policy == "Always":
            policy = "OnFailure"
        registry = self.kubelet.registry
        backoff = CRASH_BACKOFF_SECONDS
        while True:
            if self._stopping:
                return "stopped"
            if registry.pod_fault(
                faults.ImagePullFailure, self.pod, name, image=container.get("image", "")
            ):
                await self._fail_image_pull(entry, container)
                return "stopped"
            crash = registry.pod_fault(faults.CrashLoop, self.pod, name)
            if crash is not None:
                pod_status.terminated(
                    entry, exit_code=crash.exit_code, started_at=timefmt.now_seconds()
                )
                if await self._back_off(entry, backoff):
                    return "stopped"
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                continue
            try:
                base = {**self.kubelet.config.base_env,
                        "HOSTNAME": self.spec.get("hostname") or self.name}
                if self.kubelet.config.isolation == "pathmap" and "HOME" not in (
                    self.kubelet.config.extra_env
                ):
                    # Without a private root, a home under the pod's directory keeps what
                    # tools write to $HOME (session files, caches) off the host's /root.
                    home = self.pod_dir / "home"
                    home.mkdir(parents=True, exist_ok=True)
                    base["HOME"] = str(home)
                env = podenv.resolve_env(self.pod, container, base, self._lookup)
                if self.kubelet.config.isolation == "pathmap":
                    env = self._private_home(container, env)
                argv = podenv.command_line(container, env)
            except podenv.ContainerConfigError as exc:
                pod_status.waiting(entry, "CreateContainerConfigError", str(exc))
                self._publish()
                if await self._pause(CONFIG_RETRY_SECONDS):
                    return "stopped"
                continue
            outcome, started_at = await self._start_and_wait(
                container, entry, env, argv, volume_dirs, init
            )
            pod_status.terminated(
                entry,
                exit_code=outcome.exit_code,
                started_at=started_at,
                reason="StartError" if outcome.start_error else None,
                message=outcome.start_error,
                signal=outcome.signal,
            )
            self._publish()
            succeeded = outcome.exit_code == 0
            if self._stopping or policy == "Never" or (policy == "OnFailure" and succeeded):
                return "succeeded" if succeeded else "failed"
            if await self._back_off(entry, backoff):
                return "stopped"
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)

    def _private_home(self, container: Obj, env: dict[str, str]) -> dict[str, str]:
        """Pathmap mode: a HOME outside the container's volumes would be the host's own path
        (the pod spec's ``HOME=/paperclip`` with no volume there), so point it at the pod's
        private home instead, as a private root would have kept it off the host."""
        home = env.get("HOME", "")
        mounts = [str(m.get("mountPath", "")).rstrip("/") for m in container.get("volumeMounts") or []]
        if not home or any(m and (home == m or home.startswith(m + "/")) for m in mounts):
            return env
        if home == self.kubelet.config.base_env.get("HOME") or home.startswith(str(self.pod_dir)):
            return env
        private = self.pod_dir / "home"
        private.mkdir(parents=True, exist_ok=True)
        return {**env, "HOME": str(private)}

    async def _back_off(self, entry: Obj, seconds: float) -> bool:
        pod_status.restart(entry)
        pod_status.waiting(
            entry, "CrashLoopBackOff",
            f"back-off {int(seconds)}s restarting failed container={entry['name']} "
            f"pod={self.name}_{self.namespace}({self.uid})",
        )
        self._publish()
        return await self._pause(seconds)

    async def _fail_image_pull(self, entry: Obj, container: Obj) -> None:
        image = container.get("image", "")
        delay = CRASH_BACKOFF_SECONDS
        while True:
            pod_status.waiting(
                entry, "ErrImagePull",
                f'failed to pull and unpack image "{image}": failed to resolve reference '
                f'"{image}": not found',
            )
            self._publish()
            if await self._pause(ERR_IMAGE_PULL_SECONDS):
                return
            pod_status.waiting(entry, "ImagePullBackOff", f'Back-off pulling image "{image}"')
            self._publish()
            if await self._pause(delay):
                return
            delay = min(delay * 2, MAX_BACKOFF_SECONDS)

    async def _start_and_wait(
        self, container: Obj, entry: Obj, env: dict[str, str], argv: list[str],
        volume_dirs: dict[str, Path], init: bool,
    ) -> tuple[Exit, str]:
        name = container["name"]
        instance = entry["restartCount"]
        config = self.kubelet.config
        log = ContainerLog(
            self.pod_dir / "logs" / name,
            restart=instance,
            timestamps=config.timestamps,
            max_bytes=config.log_max_bytes,
            max_files=config.log_max_files,
            on_line=self.kubelet.ground_truth.recorder(self.namespace, self.name, name),
        )
        self._logs.setdefault(name, []).append(log)
        started_at = timefmt.now_seconds()
        early = self.kubelet.registry.pod_fault(faults.ExitEarly, self.pod, name)
        if early is not None and early.after_seconds == 0:
            log.close()
            return Exit(early.exit_code), started_at
        executable = "/bin/bash" if argv[0] in _SHELLS else argv[0]
        mounts = volumes.container_mounts(
            container, volume_dirs, read_only=volumes.read_only_volumes(self.pod),
        )
        spec = isolation.ContainerSpec(
            executable, argv, env, container.get("workingDir") or "/", mounts
        )
        launch = isolation.prepare(
            spec, config.isolation, self.pod_dir / "run" / f"{name}-{instance}"
        )
        process = ContainerProcess(launch, log)
        self._processes[name] = process
        outcome: list[Exit] = []
        ended_early = False

        async def run_process(*, task_status: trio.TaskStatus[None]) -> None:
            outcome.append(await process.run(task_status=task_status))
            nursery.cancel_scope.cancel(reason="container exited")

        async def end_early(seconds: float) -> None:
            nonlocal ended_early
            await trio.sleep(seconds)
            ended_early = True
            process.signal(signal.SIGKILL)
            await trio.sleep_forever()

        try:
            async with trio.open_nursery() as nursery:
                await nursery.start(run_process)
                names = self.kubelet.names
                pod_status.running(
                    entry,
                    container_id="containerd://" + (names.uid() + names.uid()).replace("-", ""),
                    image_id=f"{container.get('image', '')}@sha256:"
                    + (names.uid() + names.uid()).replace("-", ""),
                )
                if not init:
                    self.status["phase"] = "Running"
                self._publish()
                if self._stopping:
                    process.signal(signal.SIGKILL)
                if early is not None:
                    nursery.start_soon(end_early, early.after_seconds)
        finally:
            self._processes.pop(name, None)
        result = outcome[0]
        if ended_early and early is not None:
            result = Exit(early.exit_code)
        return result, started_at

    # -- status --------------------------------------------------------------------------------

    def _entries(self) -> list[Obj]:
        return [*self.status.get("initContainerStatuses", []), *self.status["containerStatuses"]]

    def _entry(self, name: str) -> Obj:
        for entry in self._entries():
            if entry["name"] == name:
                return entry
        raise KeyError(name)

    def _start_status(self) -> None:
        status = self.status
        ip = self.kubelet.pod_ip()
        status.update({
            "phase": "Pending",
            "hostIP": "127.0.0.1",
            "hostIPs": [{"ip": "127.0.0.1"}],
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": timefmt.now_seconds(),
            "qosClass": status.get("qosClass", "BestEffort"),
        })
        init = self.spec.get("initContainers") or []
        status["containerStatuses"] = [
            pod_status.container_status(container) for container in self.spec["containers"]
        ]
        if init:
            status["initContainerStatuses"] = [
                pod_status.container_status(container) for container in init
            ]
            for entry in self._entries():
                pod_status.waiting(entry, "PodInitializing")
        pod_status.set_condition(status, "PodReadyToStartContainers", True)
        pod_status.set_condition(status, "Initialized", not init)

    def _finish_status(self) -> None:
        inits = self.status.get("initContainerStatuses", [])
        mains = self.status["containerStatuses"]
        init_failed = any(
            entry["state"].get("terminated", {}).get("exitCode", 0) != 0 for entry in inits
        )
        all_succeeded = all(
            entry["state"].get("terminated", {}).get("exitCode") == 0 for entry in mains
        )
        if self._evicted or init_failed or not all_succeeded:
            self.status["phase"] = "Failed"
        else:
            self.status["phase"] = "Succeeded"
        pod_status.set_condition(self.status, "PodReadyToStartContainers", False)

    def _refresh_conditions(self) -> None:
        status = self.status
        terminal = status.get("phase") in ("Succeeded", "Failed")
        inits = status.get("initContainerStatuses", [])
        pending_inits = [
            entry["name"] for entry in inits
            if entry["state"].get("terminated", {}).get("exitCode") != 0
        ]
        if pending_inits and not terminal:
            pod_status.set_condition(
                status, "Initialized", False, reason="ContainersNotInitialized",
                message=f"containers with incomplete status: [{' '.join(pending_inits)}]",
            )
        elif not pending_inits:
            pod_status.set_condition(status, "Initialized", True)
        unready = [entry["name"] for entry in status["containerStatuses"] if not entry["ready"]]
        for kind in ("Ready", "ContainersReady"):
            if terminal:
                pod_status.set_condition(status, kind, False, reason="PodCompleted")
            elif unready:
                pod_status.set_condition(
                    status, kind, False, reason="ContainersNotReady",
                    message=f"containers with unready status: [{' '.join(unready)}]",
                )
            else:
                pod_status.set_condition(status, kind, True)

    def _publish(self) -> None:
        if self._removed:
            return
        self._refresh_conditions()
        snapshot = clone(self.status)
        uid = self.uid

        def write(pod: Obj) -> None:
            if pod["metadata"]["uid"] == uid:
                pod["status"] = snapshot

        if self.kubelet.store.update(resources.PODS, self.namespace, self.name, write) is None:
            self.removed()
