"""Shared list+watch caches ("informers") of our Jobs and Pods.

One informer per resource kind and namespace feeds every run's task, so the API load
does not grow with the number of runs (apart from one log stream per running pod).
An informer lists, then watches from the list's resourceVersion; on ``410 Gone`` it
relists; if a watch cannot be held it falls back to relisting after a bounded backoff
(polling, at most every ``max_backoff`` seconds) until a watch holds again.

Tasks wait on an informer with :meth:`Informer.wait_until`, which re-checks their
condition after every change. Objects that vanish from a relist count as deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import msgspec
import trio

from supervisor.k8s import api, errors
from supervisor.streamjson import LineSplitter

log = logging.getLogger(__name__)

WATCH_TIMEOUT_SECONDS = 290  # server-side end of one watch; we simply start another


class Informer:
    """A live cache of one resource collection, kept by list+watch.

    Args:
        kube: the API access.
        path: the collection path, e.g. ``/apis/batch/v1/namespaces/agents/jobs``.
        selector: a label selector limiting it to our objects.
        min_backoff, max_backoff: retry delays when a watch breaks.
    """

    def __init__(
        self,
        kube: api.KubeAPI,
        path: str,
        *,
        selector: str,
        min_backoff: float = 0.5,
        max_backoff: float = 10.0,
        on_change: Callable[[], None] | None = None,
        watch_timeout: int = WATCH_TIMEOUT_SECONDS,
    ) -> None:
        self.kube = kube
        self.path = path
        self.selector = selector
        self.objects: dict[str, dict[str, Any]] = {}
        self.synced = trio.Event()
        self._changed = trio.Event()
        self._resource_version = ""
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._on_change = on_change
        self._watch_timeout = watch_timeout
        self.lists = 0
        self.watches = 0
        self.relists_after_gone = 0
        self.watch_failures = 0
        self.last_error = ""

    def __repr__(self) -> str:
        return (
            f"<Informer {self.path} objects={len(self.objects)} lists={self.lists} "
            f"watches={self.watches} gone={self.relists_after_gone} failures={self.watch_failures}>"
        )

    def get(self, name: str) -> dict[str, Any] | None:
        return self.objects.get(name)

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Return once ``condition()`` is true, re-checking after every change."""
        await self.synced.wait()
        while not condition():
            await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, trio.Event()
        changed.set()
        if self._on_change is not None:
            self._on_change()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """List, report started, then keep the cache current until cancelled."""
        backoff = self._min_backoff
        started = False
        while True:
            try:
                await self._relist()
                if not started:
                    started = True
                    task_status.started()
                await self._watch()
                backoff = self._min_backoff
            except errors.Gone:
                self.relists_after_gone += 1
                continue
            except (errors.APIError, ValueError) as exc:
                self.watch_failures += 1
                self.last_error = str(exc)
                log.warning("informer %s: %s; relisting in %.1fs", self.path, exc, backoff)
                await trio.sleep(backoff)
                backoff = min(self._max_backoff, backoff * 2)

    async def _relist(self) -> None:
        listing = await self.kube.call("GET", self.path, params={"labelSelector": self.selector})
        self.lists += 1
        fresh = {item["metadata"]["name"]: item for item in listing.get("items", [])}
        self.objects = fresh
        self._resource_version = str(listing.get("metadata", {}).get("resourceVersion", ""))
        self.synced.set()
        self._notify()

    async def _watch(self) -> None:
        params = {
            "watch": "1",
            "labelSelector": self.selector,
            "allowWatchBookmarks": "true",
            "resourceVersion": self._resource_version,
            "timeoutSeconds": str(self._watch_timeout),
        }
        self.watches += 1
        async with self.kube.stream(
            self.path, params, read_timeout=self._watch_timeout + 30
        ) as chunks:
            splitter = LineSplitter()
            async for chunk in chunks:
                for line in splitter.feed(chunk):
                    if line.strip():
                        self._apply(msgspec.json.decode(line))

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            status = int(obj.get("code", 0))
            if status == 410:
                raise errors.Gone(str(obj.get("message", "resourceVersion too old")), status=410)
            raise errors.APIError(f"watch error: {obj.get('message', obj)}", status=status)
        metadata = obj.get("metadata", {})
        if metadata.get("resourceVersion"):
            self._resource_version = str(metadata["resourceVersion"])
        if kind == "BOOKMARK":
            return
        name = metadata.get("name")
        if not name:
            return
        if kind == "DELETED":
            self.objects.pop(name, None)
        else:
            self.objects[name] = obj
        self._notify()
