"""``GET /api/v1/namespaces/{ns}/pods/{name}/log``: options, errors, and the faults on streams.

Errors are the API server's: a pod with several containers needs ``container``; a container
that has not started yet answers 400 "is waiting to start"; ``previous`` without a previous
instance is a 400 too. ``sinceTime`` is read with one-second granularity (the fraction is
dropped, as it is on its way to a real kubelet); ``sinceSeconds`` is exact.

Log faults wrap the body: a cut ends it after N bytes or T seconds (dropping the connection
mid-body unless ``clean_end``), a hang sends N bytes and then nothing, never closing.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import trio

from kubesim import errors, resources, timefmt
from kubesim.asgi import AbortStream, AnyResponse, Request, Response, StreamResponse
from kubesim.fault_registry import FaultRegistry, LogPlan
from kubesim.kubelet import Kubelet
from kubesim.log_reader import Chunk, LogQuery, read_log
from kubesim.store import Obj, Store

CONTENT_TYPE = "text/plain"


def _choose_container(pod: Obj, requested: str | None) -> str:
    spec = pod["spec"]
    mains = [c["name"] for c in spec["containers"]]
    inits = [c["name"] for c in spec.get("initContainers") or []]
    name = pod["metadata"]["name"]
    if not requested:
        if len(mains) == 1:
            return str(mains[0])
        message = f"a container name must be specified for pod {name}, choose one of: [{' '.join(mains)}]"
        if inits:
            message += f" or one of the init containers: [{' '.join(inits)}]"
        raise errors.BadRequest(message)
    if requested not in mains + inits:
        raise errors.BadRequest(f"container {requested} is not valid for pod {name}")
    return requested


def _waiting_error(pod: Obj, container: str) -> errors.ApiError:
    name = pod["metadata"]["name"]
    if not pod["spec"].get("nodeName"):
        return errors.BadRequest(f"pod {name} does not have a host assigned")
    status = pod.get("status") or {}
    for entry in [*status.get("initContainerStatuses", []), *status.get("containerStatuses", [])]:
        if entry["name"] != container:
            continue
        reason = entry["state"].get("waiting", {}).get("reason", "ContainerCreating")
        if reason in ("ErrImagePull", "ImagePullBackOff"):
            reason = "trying and failing to pull image"
        elif reason == "CreateContainerConfigError":
            reason = "CreateContainerConfigError: " + entry["state"]["waiting"].get("message", "")
        return errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: '
                                 f"{reason}")
    return errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: '
                             "ContainerCreating")


def _terminated(pod: Obj, container: str) -> bool:
    status = pod.get("status") or {}
    return any(
        entry["name"] == container and "terminated" in entry.get("state", {})
        for entry in [*status.get("initContainerStatuses", []),
                      *status.get("containerStatuses", [])]
    )


def parse_query(request: Request) -> LogQuery:
    """The log options of a request.

    Raises:
        errors.BadRequest: a malformed or contradictory option.
    """
    since_seconds = request.int_param("sinceSeconds", minimum=1)
    since_time = request.param("sinceTime")
    if since_seconds is not None and since_time:
        raise errors.BadRequest("at most one of `sinceTime` or `sinceSeconds` may be specified")
    since_ns = None
    if since_seconds is not None:
        since_ns = timefmt.now_ns() - since_seconds * 1_000_000_000
    elif since_time:
        try:
            since_ns = timefmt.floor_to_second(timefmt.parse(since_time))
        except ValueError:
            raise errors.BadRequest(f"sinceTime: invalid RFC3339 time {since_time!r}") from None
    return LogQuery(
        follow=request.flag("follow"),
        timestamps=request.flag("timestamps"),
        since_ns=since_ns,
        tail_lines=request.int_param("tailLines", minimum=0),
        limit_bytes=request.int_param("limitBytes", minimum=1),
    )


async def _hang(chunks: AsyncGenerator[Chunk, None], after_bytes: int) -> AsyncGenerator[bytes, None]:
    """Send ``after_bytes`` of the body, then nothing, never ending."""
    sent = 0
    async with aclosing(chunks):
        while sent < after_bytes:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            piece = chunk.data[: after_bytes - sent]
            sent += len(piece)
            yield piece
    await trio.sleep_forever()


async def _cut(chunks: AsyncGenerator[Chunk, None], plan: LogPlan) -> AsyncGenerator[bytes, None]:
    """End the body after ``cut_after_bytes`` bytes or ``cut_after_seconds`` seconds."""
    deadline = trio.current_time() + (
        plan.cut_after_seconds if plan.cut_after_seconds is not None else float("inf")
    )
    limit = plan.cut_after_bytes
    counted = 0
    async with aclosing(chunks):
        while limit != 0 or plan.live_bytes_only:
            with trio.move_on_at(deadline) as timer:
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    return
            if timer.cancelled_caught:
                break
            data = chunk.data
            if limit is not None and (chunk.live or not plan.live_bytes_only):
                room = limit - counted
                if len(data) >= room:
                    if room > 0:
                        yield data[:room]
                    break
                counted += len(data)
            yield data
    if not plan.clean_end:
        raise AbortStream()


class LogApi:
    """Serves pod logs from the kubelet's files."""

    def __init__(self, store: Store, kubelet: Kubelet, registry: FaultRegistry) -> None:
        self._store = store
        self._kubelet = kubelet
        self._registry = registry

    async def get(self, namespace: str, name: str, request: Request) -> AnyResponse:
        """GET a container's log."""
        pod = self._store.require(resources.PODS, namespace, name)
        container = _choose_container(pod, request.param("container"))
        query = parse_query(request)
        previous = request.flag("previous")
        log = self._kubelet.container_log(namespace, name, container, previous=previous)
        if log is None:
            if previous:
                raise errors.BadRequest(
                    f'previous terminated container "{container}" in pod "{name}" not found'
                )
            if _terminated(pod, container):
                return Response(200, b"", CONTENT_TYPE)  # ran before a simulator restart
            raise _waiting_error(pod, container)
        plan = self._registry.plan_log(pod, container)
        chunks = read_log(log, query)
        if plan.hang_after_bytes is not None:
            return StreamResponse(200, _hang(chunks, plan.hang_after_bytes), CONTENT_TYPE)
        if not plan.is_clean:
            return StreamResponse(200, _cut(chunks, plan), CONTENT_TYPE)
        if query.follow:
            return StreamResponse(200, _plain(chunks), CONTENT_TYPE)
        async with aclosing(chunks):
            data = b"".join([chunk.data async for chunk in chunks])
        return Response(200, data, CONTENT_TYPE)


async def _plain(chunks: AsyncGenerator[Chunk, None]) -> AsyncGenerator[bytes, None]:
    async with aclosing(chunks):
        async for chunk in chunks:
            yield chunk.data
