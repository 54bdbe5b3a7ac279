"""Deleting objects the way the API server does: grace periods, finalizers, propagation.

* Pods on the node are deleted gracefully: ``deletionTimestamp`` and
  ``deletionGracePeriodSeconds`` appear at once, the kubelet stops the containers (SIGTERM, then
  SIGKILL after the grace period) and removes the object. Grace 0, or a pod nothing runs, is
  removed at once.
* ``propagationPolicy``: ``Background`` removes the owner now and lets the garbage collector
  delete its dependents; ``Foreground`` keeps the owner, with ``deletionTimestamp`` and the
  ``foregroundDeletion`` finalizer, until its dependents are gone; ``Orphan`` strips the owner
  reference from the dependents and removes the owner.
* Jobs deleted through the API without a policy are **orphaning**, as ``batch/v1`` still is
  for compatibility: their pods stay. kubectl always sends ``Background``.
* Any other finalizer keeps the object, marked as deleting, until an update empties the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubesim import errors, meta, resources, timefmt
from kubesim.resources import ResourceType
from kubesim.store import Obj, Store

if TYPE_CHECKING:
    from kubesim.kubelet import Kubelet

FOREGROUND = "foregroundDeletion"
POLICIES = ("Background", "Foreground", "Orphan")


@dataclass(frozen=True)
class Deleted:
    """The outcome of a delete: the object, and whether it is gone already."""

    obj: Obj
    gone: bool


class Deleter:
    """Performs deletes for the API, the controllers and the faults."""

    def __init__(self, store: Store, kubelet: Kubelet) -> None:
        self._store = store
        self._kubelet = kubelet

    def delete(
        self,
        resource: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation: str | None = None,
        grace_seconds: int | None = None,
        expected_uid: str | None = None,
    ) -> Deleted:
        """Delete one object.

        Raises:
            errors.NotFound: it does not exist.
            errors.BadRequest: unknown propagation policy or negative grace period.
            errors.Conflict: ``expected_uid`` (a precondition) does not match.
        """
        if propagation is not None and propagation not in POLICIES:
            raise errors.BadRequest(
                f'propagationPolicy: Unsupported value: "{propagation}": supported values: '
                '"Foreground", "Background", "Orphan"'
            )
        if grace_seconds is not None and grace_seconds < 0:
            raise errors.BadRequest("gracePeriodSeconds must not be negative")
        obj = self._store.require(resource, namespace, name)
        if expected_uid is not None and obj["metadata"]["uid"] != expected_uid:
            raise errors.Conflict(resource.name, resource.group, name)
        if resource is resources.PODS:
            return self._delete_pod(obj, grace_seconds)
        if propagation is None:
            propagation = "Orphan" if resource is resources.JOBS else "Background"
        if meta.is_deleting(obj):
            return Deleted(obj, gone=False)
        finalizers = list(obj["metadata"].get("finalizers") or [])
        if propagation == "Foreground":
            finalizers.append(FOREGROUND)
        if propagation == "Orphan":
            self._orphan_dependents(namespace, obj["metadata"]["uid"])
        if finalizers:
            updated = self._mark_deleting(resource, namespace, name, finalizers)
            return Deleted(updated, gone=False)
        removed = self._store.remove(resource, namespace, name)
        assert removed is not None
        return Deleted(removed, gone=True)

    def _mark_deleting(
        self, resource: ResourceType, namespace: str, name: str, finalizers: list[str]
    ) -> Obj:
        def mark(obj: Obj) -> None:
            obj["metadata"]["deletionTimestamp"] = timefmt.now_seconds()
            obj["metadata"]["deletionGracePeriodSeconds"] = 0
            obj["metadata"]["finalizers"] = finalizers

        updated = self._store.update(resource, namespace, name, mark)
        assert updated is not None
        return updated

    def _delete_pod(self, pod: Obj, grace_seconds: int | None) -> Deleted:
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        if grace_seconds is None:
            grace_seconds = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
        if meta.is_deleting(pod) and grace_seconds > 0:
            return Deleted(pod, gone=False)
        if grace_seconds > 0 and self._kubelet.request_delete(namespace, name, grace_seconds):

            def mark(obj: Obj) -> None:
                deadline = timefmt.now_ns() + grace_seconds * 1_000_000_000
                obj["metadata"]["deletionTimestamp"] = timefmt.format_seconds(deadline)
                obj["metadata"]["deletionGracePeriodSeconds"] = grace_seconds

            updated = self._store.update(resources.PODS, namespace, name, mark)
            if updated is not None:
                return Deleted(updated, gone=False)
        removed = self._store.remove(resources.PODS, namespace, name)
        return Deleted(removed or pod, gone=True)

    def _orphan_dependents(self, namespace: str, owner_uid: str) -> None:
        for resource in resources.STORED:
            for obj in self._store.select(
                resource, namespace, lambda obj: owner_uid in meta.owner_uids(obj)
            ):

                def strip(dependent: Obj) -> None:
                    refs = dependent["metadata"].get("ownerReferences") or []
                    kept = [ref for ref in refs if ref.get("uid") != owner_uid]
                    if kept:
                        dependent["metadata"]["ownerReferences"] = kept
                    else:
                        dependent["metadata"].pop("ownerReferences", None)

                self._store.update(resource, namespace, obj["metadata"]["name"], strip)

    def finish_if_unblocked(self, resource: ResourceType, namespace: str, name: str) -> bool:
        """Remove a deleting object whose finalizers are all gone; True if it was removed."""
        obj = self._store.get(resource, namespace, name)
        if obj is None or not meta.is_deleting(obj) or obj["metadata"].get("finalizers"):
            return False
        if resource is resources.PODS:
            return False
        self._store.remove(resource, namespace, name)
        return True
