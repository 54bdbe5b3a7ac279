"""Watch streams: ``?watch=1`` on a collection, as newline-delimited JSON events.

* No ``resourceVersion`` (or ``"0"``): the current objects come first as ``ADDED`` events, then
  changes. With ``sendInitialEvents=true`` and bookmarks allowed, a ``BOOKMARK`` annotated
  ``k8s.io/initial-events-end`` marks the end of that initial list.
* ``resourceVersion=N``: every change after N. If N is older than the kept history the stream
  carries one ``ERROR`` event holding a ``410 Expired`` Status and ends, as an API server
  does; a watcher that falls that far behind while streaming gets the same.
* Label and field selectors are applied to the object before and after each change, so an
  object that starts matching arrives as ``ADDED`` and one that stops matching as ``DELETED``.
* ``allowWatchBookmarks=true``: a ``BOOKMARK`` carrying the current resourceVersion whenever
  the stream has been quiet for ``bookmark_interval`` seconds.
* The stream ends cleanly after ``timeoutSeconds`` (or the server's own timeout).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import msgspec
import trio

from kubesim import errors
from kubesim.resources import ResourceType
from kubesim.selectors import Matcher
from kubesim.store import Change, Store

_encoder = msgspec.json.Encoder()


@dataclass(frozen=True)
class WatchRequest:
    """What one watch asks for."""

    resource: ResourceType
    namespace: str | None
    label_match: Matcher
    field_match: Matcher
    resource_version: str | None
    bookmarks: bool
    send_initial_events: bool
    timeout_seconds: float
    filtered: bool


def _event(kind: str, encoded_object: bytes) -> bytes:
    return b'{"type":"' + kind.encode() + b'","object":' + encoded_object + b"}\n"


def _bookmark(resource: ResourceType, rv: int, *, initial_end: bool = False) -> bytes:
    metadata: dict[str, Any] = {"resourceVersion": str(rv)}
    if initial_end:
        metadata["annotations"] = {"k8s.io/initial-events-end": "true"}
    obj = {"kind": resource.kind, "apiVersion": resource.api_version, "metadata": metadata}
    return _event("BOOKMARK", _encoder.encode(obj))


def _error(error: errors.ApiError) -> bytes:
    return _event("ERROR", _encoder.encode(error.status()))


def _matches(request: WatchRequest, obj: dict[str, Any] | None) -> bool:
    return obj is not None and request.label_match(obj) and request.field_match(obj)


def _translate(request: WatchRequest, change: Change) -> bytes | None:
    if change.resource is not request.resource:
        return None
    if request.namespace is not None and change.namespace != request.namespace:
        return None
    if not request.filtered:
        return _event(change.type, change.encoded)
    now = _matches(request, change.object())
    if change.type != "MODIFIED":
        return _event(change.type, change.encoded) if now else None
    before = _matches(request, change.previous_object())
    if now and before:
        return _event("MODIFIED", change.encoded)
    if now:
        return _event("ADDED", change.encoded)
    if before:
        return _event("DELETED", change.encoded)
    return None


async def stream(
    store: Store, request: WatchRequest, *, bookmark_interval: float
) -> AsyncGenerator[bytes, None]:
    """The body of one watch response."""
    end = trio.current_time() + request.timeout_seconds
    if request.resource_version in (None, "", "0") or request.send_initial_events:
        cursor = store.resource_version
        for obj in store.list(request.resource, request.namespace):
            if _matches(request, obj):
                yield _event("ADDED", _encoder.encode(obj))
        if request.send_initial_events and request.bookmarks:
            yield _bookmark(request.resource, cursor, initial_end=True)
    else:
        try:
            cursor = int(request.resource_version or "0")
        except ValueError:
            yield _error(errors.BadRequest(
                f"invalid resource version {request.resource_version!r}"
            ))
            return
    next_bookmark = trio.current_time() + bookmark_interval
    while True:
        try:
            changes = store.changes_since(cursor)
        except errors.Expired as exc:
            yield _error(exc)
            return
        for change in changes:
            cursor = change.rv
            line = _translate(request, change)
            if line is not None:
                next_bookmark = trio.current_time() + bookmark_interval
                yield line
        now = trio.current_time()
        if now >= end:
            return
        if request.bookmarks and now >= next_bookmark:
            next_bookmark = now + bookmark_interval
            yield _bookmark(request.resource, cursor)
        wake_at = min(end, next_bookmark) if request.bookmarks else end
        with trio.move_on_at(wake_at):
            await store.wait_beyond(cursor)
