"""The scheduler: binds every new pod to the one node, unless a fault says it never fits.

A bound pod gets ``spec.nodeName`` and ``PodScheduled=True``; an ``Unschedulable`` fault leaves
it Pending with ``PodScheduled=False``, reason ``Unschedulable`` and the fault's message, for as
long as it exists, as a pod that fits no node does.
"""

from __future__ import annotations

import trio

from kubesim import faults, pod_status, resources
from kubesim.fault_registry import FaultRegistry
from kubesim.store import Change, Obj, Store


class Scheduler:
    """Binds pods to ``node_name`` as they are created."""

    def __init__(self, store: Store, registry: FaultRegistry, *, node_name: str) -> None:
        self._store = store
        self._registry = registry
        self._node_name = node_name
        self._nursery: trio.Nursery | None = None

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Schedule pods until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            self._store.add_listener(self._on_change)
            for pod in self._store.list(resources.PODS):
                self._consider(pod)
            task_status.started()
            await trio.sleep_forever()

    def _on_change(self, change: Change) -> None:
        if change.type == "ADDED" and change.resource is resources.PODS:
            self._consider(change.object())

    def _consider(self, pod: Obj) -> None:
        if pod["spec"].get("nodeName") or pod_status.is_terminal(pod) or self._nursery is None:
            return
        meta = pod["metadata"]
        self._nursery.start_soon(self._schedule, meta["namespace"], meta["name"])

    async def _schedule(self, namespace: str, name: str) -> None:
        pod = self._store.get(resources.PODS, namespace, name)
        if pod is None or pod["spec"].get("nodeName"):
            return
        fault = self._registry.pod_fault(faults.Unschedulable, pod)

        def bind(obj: Obj) -> None:
            status = obj.setdefault("status", {})
            if fault is not None:
                pod_status.set_condition(
                    status, "PodScheduled", False, reason="Unschedulable", message=fault.message
                )
                return
            obj["spec"]["nodeName"] = self._node_name
            pod_status.set_condition(status, "PodScheduled", True)

        self._store.update(resources.PODS, namespace, name, bind)
