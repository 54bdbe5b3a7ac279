"""The garbage collector: dependents follow their owners.

When an owner is removed, every object whose ``ownerReferences`` names its uid is deleted
(Background). When an owner is deleted in the foreground, its dependents are deleted first and
the ``foregroundDeletion`` finalizer is removed once none is left. An object whose owner never
existed or is already gone (say, a Secret patched to point at a Job that was deleted
meanwhile) is deleted too, as the real collector does after it verifies the owner is absent.
"""

from __future__ import annotations

import trio

from kubesim import deletion, errors, meta, resources
from kubesim.deletion import Deleter
from kubesim.store import Change, Store


class GarbageCollector:
    """Deletes dependents of removed owners and completes foreground deletions."""

    def __init__(self, store: Store, deleter: Deleter) -> None:
        self._store = store
        self._deleter = deleter
        self._uids: dict[str, tuple[str, str]] = {}
        self._foreground: set[str] = set()
        self._nursery: trio.Nursery | None = None

    def __repr__(self) -> str:
        return f"<GarbageCollector tracking={len(self._uids)} foreground={len(self._foreground)}>"

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Collect garbage until cancelled."""
        async with trio.open_nursery() as nursery:
            self._nursery = nursery
            for resource in resources.STORED:
                for obj in self._store.list(resource):
                    self._uids[obj["metadata"]["uid"]] = (resource.name, obj["metadata"]["name"])
            self._store.add_listener(self._on_change)
            task_status.started()
            await trio.sleep_forever()

    def _on_change(self, change: Change) -> None:
        if self._nursery is None:
            return
        obj = change.object()
        uid = obj["metadata"].get("uid", "")
        if change.type == "DELETED":
            self._uids.pop(uid, None)
            self._nursery.start_soon(self._delete_dependents, change.namespace, uid)
            return
        self._uids[uid] = (change.resource.name, change.name)
        owners = meta.owner_uids(obj)
        if owners and not meta.is_deleting(obj) and any(o not in self._uids for o in owners):
            self._nursery.start_soon(self._delete_if_orphaned, change, owners)
        finalizers = obj["metadata"].get("finalizers") or []
        if (
            meta.is_deleting(obj)
            and deletion.FOREGROUND in finalizers
            and uid not in self._foreground
        ):
            self._foreground.add(uid)
            self._nursery.start_soon(self._finish_foreground, change)

    def _dependents(self, namespace: str, owner_uid: str) -> list[tuple[resources.ResourceType, str]]:
        found = []
        for resource in resources.STORED:
            for obj in self._store.select(
                resource, namespace, lambda obj: owner_uid in meta.owner_uids(obj)
            ):
                found.append((resource, obj["metadata"]["name"]))
        return found

    async def _delete_dependents(self, namespace: str, owner_uid: str) -> None:
        for resource, name in self._dependents(namespace, owner_uid):
            try:
                self._deleter.delete(resource, namespace, name, propagation="Background")
            except errors.NotFound:
                pass

    async def _delete_if_orphaned(self, change: Change, owners: set[str]) -> None:
        if all(owner in self._uids for owner in owners):
            return
        obj = self._store.get(change.resource, change.namespace, change.name)
        if obj is None or meta.is_deleting(obj):
            return
        # Only dangling references count: an owner that is absent right now.
        if any(owner not in self._uids for owner in meta.owner_uids(obj)):
            try:
                self._deleter.delete(
                    change.resource, change.namespace, change.name, propagation="Background"
                )
            except errors.NotFound:
                pass

    async def _finish_foreground(self, change: Change) -> None:
        owner_uid = change.object()["metadata"]["uid"]
        try:
            await self._delete_dependents(change.namespace, owner_uid)
            while self._dependents(change.namespace, owner_uid):
                await self._store.wait_beyond(self._store.resource_version)
            obj = self._store.get(change.resource, change.namespace, change.name)
            if obj is None or obj["metadata"]["uid"] != owner_uid:
                return

            def release(owner: dict[str, object]) -> None:
                metadata = owner["metadata"]
                assert isinstance(metadata, dict)
                remaining = [f for f in metadata.get("finalizers") or [] if f != deletion.FOREGROUND]
                if remaining:
                    metadata["finalizers"] = remaining
                else:
                    metadata.pop("finalizers", None)

            self._store.update(change.resource, change.namespace, change.name, release)
            self._deleter.finish_if_unblocked(change.resource, change.namespace, change.name)
        finally:
            self._foreground.discard(owner_uid)
