"""The object store: every object by (resource, namespace, name), one resourceVersion counter,
and a bounded history of changes that watches replay from.

Why a history and not per-watcher queues: a watch resumes from any ``resourceVersion`` the
client saw, as long as the server still remembers it. Keeping one bounded list of changes gives
that for free and gives the real failure when it does not: a watch from a version older than
the oldest kept change gets ``410 Expired``. A watcher that falls behind the history while
streaming is cut with the same error, as an API server's watch cache does.

Objects are plain JSON dicts. The store never hands out its own dicts: readers get copies, and
every change carries an encoded snapshot, so a watch event is exactly what was committed.
"""

from __future__ import annotations

import bisect
import builtins
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import trio

from kubesim import errors
from kubesim.resources import ResourceType

Obj = dict[str, Any]
Key = tuple[str, str, str]

_encoder = msgspec.json.Encoder()


def clone(obj: Obj) -> Obj:
    """A deep copy of a JSON object."""
    result: Obj = msgspec.json.decode(_encoder.encode(obj))
    return result


def key_of(resource: ResourceType, obj: Obj) -> Key:
    """The store key of ``obj``."""
    meta = obj.get("metadata", {})
    return (resource.name, meta.get("namespace", "") if resource.namespaced else "", meta["name"])


@dataclass(frozen=True)
class Change:
    """One committed change: the watch event a client would see."""

    rv: int
    type: str
    resource: ResourceType
    namespace: str
    name: str
    encoded: bytes = field(repr=False)
    previous: bytes | None = field(default=None, repr=False)

    def object(self) -> Obj:
        """A fresh copy of the object as committed."""
        result: Obj = msgspec.json.decode(self.encoded)
        return result

    def previous_object(self) -> Obj | None:
        """The object before a MODIFIED change (None for ADDED and DELETED)."""
        if self.previous is None:
            return None
        result: Obj = msgspec.json.decode(self.previous)
        return result


Listener = Callable[[Change], None]


class Store:
    """In-memory objects with a monotonic resourceVersion and a replayable change history.

    Args:
        history_limit: how many changes are kept for watches to resume from.
    """

    def __init__(self, *, history_limit: int = 4_000) -> None:
        if history_limit < 1:
            raise ValueError("history_limit must be at least 1")
        self._objects: dict[Key, Obj] = {}
        # Never "0": to a watch, resourceVersion "0" means "any", not "after version 0".
        self._rv = 1
        self._history: list[Change] = []
        self._history_rvs: list[int] = []
        self._history_limit = history_limit
        self._forgotten_through = 0
        self._changed = trio.Event()
        self._listeners: list[Listener] = []

    def __repr__(self) -> str:
        return (
            f"<Store rv={self._rv} objects={len(self._objects)} "
            f"history={len(self._history)} forgotten_through={self._forgotten_through}>"
        )

    @property
    def resource_version(self) -> int:
        """The newest committed resourceVersion."""
        return self._rv

    def add_listener(self, listener: Listener) -> None:
        """Call ``listener`` synchronously after every commit (it must not mutate the store)."""
        self._listeners.append(listener)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, resource: ResourceType, namespace: str, name: str) -> Obj | None:
        """A copy of one object, or None."""
        obj = self._objects.get((resource.name, namespace if resource.namespaced else "", name))
        return None if obj is None else clone(obj)

    def require(self, resource: ResourceType, namespace: str, name: str) -> Obj:
        """A copy of one object.

        Raises:
            errors.NotFound: it does not exist.
        """
        obj = self.get(resource, namespace, name)
        if obj is None:
            raise errors.NotFound(resource.name, resource.group, name)
        return obj

    def list(self, resource: ResourceType, namespace: str | None = None) -> list[Obj]:
        """Copies of every object of ``resource`` (in ``namespace`` if given), sorted by name."""
        return self.select(resource, namespace, lambda obj: True)

    def select(
        self, resource: ResourceType, namespace: str | None, predicate: Callable[[Obj], bool]
    ) -> builtins.list[Obj]:
        """Copies of the objects ``predicate`` accepts (it sees the stored dict: read only)."""
        found = [
            clone(obj)
            for (kind, ns, _), obj in self._objects.items()
            if kind == resource.name and (namespace is None or ns == namespace) and predicate(obj)
        ]
        found.sort(key=lambda obj: (obj["metadata"].get("namespace", ""), obj["metadata"]["name"]))
        return found

    def names(self, resource: ResourceType, namespace: str | None = None) -> Iterable[Key]:
        """The keys of every object of ``resource``."""
        return [
            key for key in self._objects
            if key[0] == resource.name and (namespace is None or key[1] == namespace)
        ]

    def restore(self, objects: Iterable[tuple[ResourceType, Obj]], resource_version: int) -> None:
        """Load saved objects (no history: older versions are gone, as after a compaction)."""
        for resource, obj in objects:
            self._objects[key_of(resource, obj)] = obj
        self._rv = max(self._rv, resource_version)
        self._forgotten_through = self._rv

    # -- writes --------------------------------------------------------------------------------

    def create(self, resource: ResourceType, obj: Obj) -> Obj:
        """Store a new object and return a copy as committed.

        Raises:
            errors.AlreadyExists: the name is taken.
        """
        key = key_of(resource, obj)
        if key in self._objects:
            raise errors.AlreadyExists(resource.name, resource.group, key[2])
        return self._commit("ADDED", resource, key, obj)

    def replace(self, resource: ResourceType, obj: Obj, *, check_version: bool = True) -> Obj:
        """Replace an existing object (an update); a no-op update keeps the resourceVersion.

        Raises:
            errors.NotFound: it does not exist.
            errors.Conflict: ``check_version`` and the object's resourceVersion is stale.
        """
        key = key_of(resource, obj)
        current = self._objects.get(key)
        if current is None:
            raise errors.NotFound(resource.name, resource.group, key[2])
        sent = obj.get("metadata", {}).get("resourceVersion")
        if check_version and sent and sent != current["metadata"]["resourceVersion"]:
            raise errors.Conflict(resource.name, resource.group, key[2])
        candidate = clone(obj)
        candidate["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        if candidate == current:
            return clone(current)
        return self._commit("MODIFIED", resource, key, candidate)

    def update(
        self, resource: ResourceType, namespace: str, name: str, mutate: Callable[[Obj], None]
    ) -> Obj | None:
        """Apply ``mutate`` to a copy of an object and commit it if it changed.

        Returns the object as committed, or None when it does not exist.
        """
        current = self.get(resource, namespace, name)
        if current is None:
            return None
        mutate(current)
        return self.replace(resource, current, check_version=False)

    def remove(self, resource: ResourceType, namespace: str, name: str) -> Obj | None:
        """Delete an object outright; returns its last state (with the deletion's version)."""
        key = (resource.name, namespace if resource.namespaced else "", name)
        obj = self._objects.get(key)
        if obj is None:
            return None
        return self._commit("DELETED", resource, key, clone(obj))

    def _commit(self, kind: str, resource: ResourceType, key: Key, obj: Obj) -> Obj:
        before = self._objects.get(key) if kind == "MODIFIED" else None
        self._rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self._rv)
        if kind == "DELETED":
            del self._objects[key]
        else:
            self._objects[key] = obj
        change = Change(
            self._rv, kind, resource, key[1], key[2], _encoder.encode(obj),
            None if before is None else _encoder.encode(before),
        )
        self._history.append(change)
        self._history_rvs.append(change.rv)
        if len(self._history) > 2 * self._history_limit:
            drop = len(self._history) - self._history_limit
            self._forgotten_through = self._history_rvs[drop - 1]
            del self._history[:drop]
            del self._history_rvs[:drop]
        self._changed.set()
        self._changed = trio.Event()
        for listener in self._listeners:
            listener(change)
        return clone(obj)

    # -- history -------------------------------------------------------------------------------

    def oldest_resumable(self) -> int:
        """The oldest resourceVersion a watch may still resume from.

        At least ``history_limit`` changes are kept; the list is trimmed back to that many once
        it holds twice as many, so the boundary moves in steps.
        """
        return self._forgotten_through

    def changes_since(self, rv: int) -> builtins.list[Change]:
        """Every change after ``rv``, oldest first.

        Raises:
            errors.Expired: ``rv`` is older than the kept history.
        """
        if rv < self.oldest_resumable():
            raise errors.Expired(
                f"too old resource version: {rv} ({self.oldest_resumable()})"
            )
        start = bisect.bisect_right(self._history_rvs, rv)
        return self._history[start:]

    async def wait_beyond(self, rv: int) -> None:
        """Return once a change newer than ``rv`` has been committed."""
        while self._rv <= rv:
            await self._changed.wait()
