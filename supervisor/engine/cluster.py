"""What every run shares about the cluster: API access, informers, settings.

Informers are started lazily, one per resource kind and namespace, the first time a
run needs them, and live until the daemon stops. Any change in a namespace wakes the
runs waiting in it (:meth:`Cluster.wait_change`); each re-checks its own condition.
"""

from __future__ import annotations

import trio

from supervisor import config, labels
from supervisor.engine.follow import FollowSettings
from supervisor.k8s import api, watch
from supervisor.selfpod import SelfPod

OUR_OBJECTS = f"{labels.LABEL_MANAGED_BY}={labels.MANAGED_BY}"


class Cluster:
    """Shared cluster access for all runs.

    Args:
        kube: the API.
        settings: the daemon configuration.
        self_pod: the supervisor's own pod, when it runs in the cluster.
        follow: log-follower timings.
    """

    def __init__(self, kube: api.KubeAPI, settings: config.DaemonConfig, *,
                 self_pod: SelfPod | None = None, follow: FollowSettings | None = None) -> None:
        self.kube = kube
        self.settings = settings
        self.self_pod = self_pod
        self.follow = follow or FollowSettings()
        self._informers: dict[tuple[str, str], watch.Informer] = {}
        self._changed: dict[str, trio.Event] = {}
        self._versions: dict[str, int] = {}
        self._nursery: trio.Nursery | None = None

    @property
    def default_namespace(self) -> str:
        return (self.settings.namespace or (self.self_pod.namespace if self.self_pod else None)
                or "default")

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            task_status.started()
            await trio.sleep_forever()

    def jobs(self, namespace: str) -> watch.Informer:
        return self._informer("jobs", namespace, f"/apis/batch/v1/namespaces/{namespace}/jobs")

    def pods(self, namespace: str) -> watch.Informer:
        return self._informer("pods", namespace, f"/api/v1/namespaces/{namespace}/pods")

    def _informer(self, kind: str, namespace: str, path: str) -> watch.Informer:
        key = (kind, namespace)
        informer = self._informers.get(key)
        if informer is None:
            assert self._nursery is not None, "cluster service is not running"
            informer = watch.Informer(self.kube, path, selector=OUR_OBJECTS,
                                      on_change=lambda: self.poke(namespace))
            self._informers[key] = informer
            self._nursery.start_soon(informer.run, name=f"informer {kind}/{namespace}")
        return informer

    def informers(self) -> list[watch.Informer]:
        return list(self._informers.values())

    def poke(self, namespace: str) -> None:
        """Wake every run waiting on this namespace."""
        self._versions[namespace] = self._versions.get(namespace, 0) + 1
        event = self._changed.pop(namespace, None)
        if event is not None:
            event.set()

    def version(self, namespace: str) -> int:
        """A counter of changes seen in the namespace; pass it to :meth:`wait_change`."""
        return self._versions.get(namespace, 0)

    async def wait_change(self, namespace: str, seen: int) -> None:
        """Return once the namespace changed after ``version()`` returned ``seen``.

        Taking the version *before* looking at the cache means no change can slip by
        while the caller was busy (appending events) between its look and this wait.
        """
        while self._versions.get(namespace, 0) == seen:
            event = self._changed.setdefault(namespace, trio.Event())
            await event.wait()
